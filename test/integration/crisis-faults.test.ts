import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { CrisisService } from "@paysync/aws/crisis/crisis-service";
import { DeferredCrisisWrites } from "@paysync/aws/crisis/deferred-writes";
import type { wiring as Wiring } from "@paysync/aws/wiring";
import type { LaneMessage, LaneSink, PayloadCipher, PayloadContext } from "@paysync/core/ports";
import { pseudonymousKey } from "@paysync/core/pii";
import { useRuntime, scanAll } from "../helpers/runtime.js";
import { deviceKey, entityKey, type TableKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
let wiring: typeof Wiring;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  ({ wiring } = await import("@paysync/aws/wiring"));
});

let userSeq = 0;

async function userWithDevices(label: string, names: string[]) {
  const userId = `crisis-fault-${Date.now()}-${++userSeq}-${label}`;
  const token = await rt.token(userId);
  const d = (name: string) => `${name}-${userId.slice(13)}`;
  for (const name of names) {
    expect((await rt.request("POST", "/v1/devices", { token, body: { deviceId: d(name), platform: "ios" } })).status).toBe(201);
  }
  return { token, userKey: pseudonymousKey(rt.secrets.pseudonymSecret, userId, "u"), d };
}

const item = async (key: TableKey) =>
  (await rt.dynamo.send(new GetCommand({ TableName: rt.resources.tables.Sync, Key: key, ConsistentRead: true }))).Item;
const storedState = async (userKey: string) => {
  const entity = await item(entityKey(userKey, "crisis_state", "current"));
  return { version: entity?.version, state: entity ? await rt.cipher().decrypt(entity.payloadCipher, { userKey, entityType: "crisis_state" }) : undefined };
};
const auditOf = async (userKey: string) => (await scanAll(rt.dynamo, {
  TableName: rt.resources.tables.Audit, FilterExpression: "userKey = :u", ExpressionAttributeValues: { ":u": userKey }, ConsistentRead: true,
}));

/** The real cipher, but decryption fails like KMS being unreachable while `kmsDown` is set. */
class KmsOutageCipher implements PayloadCipher {
  kmsDown = false;
  constructor(private readonly real: PayloadCipher) {}
  encrypt(payload: unknown, context: PayloadContext) { return this.real.encrypt(payload, context); }
  async decrypt(ciphertext: string, context: PayloadContext) {
    if (this.kmsDown) throw Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError" });
    return this.real.decrypt(ciphertext, context);
  }
}

class KeptWrites implements LaneSink {
  readonly sent: LaneMessage[] = [];
  async publish(messages: readonly LaneMessage[]) { this.sent.push(...messages); return { failed: [] }; }
}

describe("crisis state that cannot be read", () => {
  it("is never the base of a write: an activation during a KMS outage keeps the level and the episode start, and lands once later", async () => {
    // Prepare
    const { token, userKey, d } = await userWithDevices("kms", ["phone", "tablet"]);
    expect((await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: d("phone"), level: "imminent", source: "button" } })).status).toBe(200);
    const before = await storedState(userKey);
    const cipher = new KmsOutageCipher(wiring.cipher());
    const kept = new KeptWrites();
    const service = new CrisisService({ feed: wiring.feed(), devices: wiring.devices(), entities: wiring.entities(), cipher, deferred: kept });
    const deferred = new DeferredCrisisWrites(service, wiring.cipher(), wiring.audit());

    // Act
    cipher.kmsDown = true;
    const during = await service.activate(userKey, { deviceId: d("tablet"), level: "moderate", source: "assessment" });
    const afterOutage = await storedState(userKey);
    cipher.kmsDown = false;
    const outcomes = [await deferred.apply(kept.sent[0]!.message), await deferred.apply(kept.sent[0]!.message)];

    // Assess
    expect(during).toMatchObject({ degraded: true, hotline: { call: "988" }, crisisMode: { active: true } });
    expect(afterOutage).toEqual(before);
    expect(kept.sent).toHaveLength(1);
    expect(JSON.stringify(kept.sent[0]!.message)).not.toContain("moderate");
    expect(outcomes).toEqual(["applied", "duplicate"]);
    const landed = await storedState(userKey);
    expect(landed.version).toBe(2);
    expect(landed.state).toMatchObject({ active: true, level: "imminent", activatedAt: (before.state as { activatedAt: string }).activatedAt });
    expect((await item(deviceKey(userKey, d("tablet"))))?.crisisMode).toBe(true);
    const late = (await auditOf(userKey)).filter((e) => e.outcome === "applied_after_outage");
    expect(late.map((e) => e.action)).toEqual(["crisis.activate"]);
  });
});

describe("a crisis directory or saved region that cannot be read", () => {
  const unreachable = () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { name: "TimeoutError" }));

  it("answers with the bundled lines for the requested region, marked degraded, never an error", async () => {
    // Prepare
    const { userKey } = await userWithDevices("directory-down", ["phone"]);
    const service = new CrisisService({
      feed: wiring.feed(), devices: wiring.devices(), entities: wiring.entities(), cipher: wiring.cipher(),
      directory: { current: unreachable, put: unreachable }, regions: { get: unreachable, put: unreachable },
    });

    // Act
    const asked = await service.resources(userKey, "GB");
    const unasked = await service.resources(userKey);
    const saved = await service.saveRegion(userKey, "IE");

    // Assess
    expect(asked).toMatchObject({ degraded: true, region: "GB", directoryVersion: 1, lines: [{ call: "116 123" }, { text: { number: "85258" } }] });
    expect(asked.fallback).toEqual([expect.objectContaining({ url: "https://findahelpline.com/" })]);
    expect(unasked).toMatchObject({ degraded: true, region: "US", lines: [expect.objectContaining({ call: "988" }), expect.objectContaining({ id: "us-crisis-text-line" })] });
    expect(saved).toEqual({ region: "IE", degraded: true });
  });

  it("is not degraded when both can be read", async () => {
    // Prepare
    const { userKey } = await userWithDevices("directory-up", ["phone"]);
    const service = new CrisisService({
      feed: wiring.feed(), devices: wiring.devices(), entities: wiring.entities(), cipher: wiring.cipher(),
      directory: wiring.crisisDirectory(), regions: { get: async () => "AU", put: async () => undefined },
    });

    // Act
    const answer = await service.resources(userKey);

    // Assess
    expect(answer.degraded).toBeUndefined();
    expect(answer).toMatchObject({ region: "AU", lines: [{ call: "13 11 14" }] });
  });
});
