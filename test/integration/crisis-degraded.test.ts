import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { pseudonymousKey } from "@paysync/core/pii";
import type { RuntimeState } from "@paysync/local/runtime";
import { eventually, useRuntime, scanAll } from "../helpers/runtime.js";
import { entityKey, type TableKey } from "@paysync/aws/store/keys";

// Degraded mode of the crisis path (docs/CRISIS.md): DynamoDB Local is killed, the runtime's
// supervisor starts it again on the same port and data (retrying a failed start), as the
// emulator-faults suite also relies on. PAYSYNC_DDB_KILL_TESTS=0 skips it on a machine where
// DynamoDB Local cannot be restarted.
const rt = useRuntime();
const killTests = process.env.PAYSYNC_DDB_KILL_TESTS !== "0";

let userSeq = 0;
const PLAN = { warningSigns: ["cannot sleep"], copingStrategies: ["walk"], reasonsForLiving: [], distractions: [], peopleToAskForHelp: [], professionalsToContact: [], makingEnvironmentSafe: [] };

async function userWithDevices(label: string, names: string[]) {
  const userId = `crisis-degraded-${Date.now()}-${++userSeq}-${label}`;
  const token = await rt.token(userId);
  const d = (name: string) => `${name}-${userId.slice(16)}`;
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

const emulatorPid = () => (JSON.parse(readFileSync(join(rt.dataDir, "runtime.json"), "utf8")) as RuntimeState).emulatorPids.dynamodb;

describe.skipIf(!killTests)("crisis routes while DynamoDB is down", () => {
  it("answer 200 degraded with the hotline, and the kept writes land exactly once with their audit entries once it is back", { timeout: 150_000 }, async () => {
    // Prepare
    const active = await userWithDevices("ddb-active", ["phone", "tablet"]);
    const other = await userWithDevices("ddb-other", ["phone"]);
    expect((await rt.request("POST", "/v1/crisis/activate", { token: active.token, body: { deviceId: active.d("phone"), level: "high", source: "button" } })).status).toBe(200);
    expect((await rt.request("POST", "/v1/crisis/activate", { token: other.token, body: { deviceId: other.d("phone"), level: "moderate", source: "button" } })).status).toBe(200);
    const before = await storedState(active.userKey);
    const pid = emulatorPid();
    expect(pid).toBeGreaterThan(0);

    // Act
    process.kill(pid!, "SIGKILL");
    const device = (d: (n: string) => string) => ({ "x-device-id": d("phone") });
    const answers = await Promise.all([
      rt.request("GET", "/v1/crisis/resources", { token: active.token }),
      rt.request("POST", "/v1/crisis/activate", { token: active.token, body: { deviceId: active.d("tablet"), level: "moderate", source: "button" } }),
      rt.request("PUT", "/v1/crisis/safety-plan", { token: active.token, body: PLAN, headers: device(active.d) }),
      rt.request("PUT", "/v1/crisis/contacts", { token: active.token, body: { contacts: [{ name: "Sam" }] }, headers: device(active.d) }),
      rt.request("POST", "/v1/crisis/resolve", { token: other.token, body: { deviceId: other.d("phone") } }),
      rt.request("DELETE", "/v1/crisis/safety-plan", { token: other.token, headers: device(other.d) }),
    ]);

    // Assess
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.json.degraded)).toEqual([true, true, true, true, true, true]);
    expect(answers[0]!.json.hotline.call).toBe("988");
    expect(answers[1]!.json).toMatchObject({ hotline: { call: "988" }, crisisMode: { active: true } });
    // Once DynamoDB is back, the sync worker applies what was kept.
    const landed = await eventually(async () => {
      const state = await storedState(active.userKey).catch(() => undefined);
      const plan = await item(entityKey(active.userKey, "safety_plan", "current")).catch(() => undefined);
      const contacts = await item(entityKey(active.userKey, "emergency_contacts", "current")).catch(() => undefined);
      const resolved = await storedState(other.userKey).catch(() => undefined);
      return state?.version === 2 && plan && contacts && resolved?.version === 2 ? state : undefined;
    }, 120_000, 500);
    // Every crisis call of the outage has its own entry: kept on the Audit lane, appended late once.
    const keptCalls = async (userKey: string) => (await auditOf(userKey))
      .filter((e) => e.late === true && e.action !== "crisis.slo_breach").map((e) => e.action as string).sort();
    await eventually(async () => ((await keptCalls(other.userKey)).length >= 2 && (await keptCalls(active.userKey)).length >= 4 ? true : undefined), 60_000, 500);
    expect(await keptCalls(active.userKey)).toEqual(["crisis.activate", "crisis.contacts", "crisis.resources", "crisis.safety_plan"]);
    expect(await keptCalls(other.userKey)).toEqual(["crisis.resolve", "crisis.safety_plan"]);
    expect(landed.state).toMatchObject({ active: true, level: "high", activatedAt: (before.state as { activatedAt: string }).activatedAt });
    expect((await storedState(other.userKey)).state).toMatchObject({ active: false });
    const late = (await auditOf(active.userKey)).filter((e) => e.outcome === "applied_after_outage").map((e) => e.action).sort();
    expect(late).toEqual(["crisis.activate", "crisis.contacts", "crisis.safety_plan"]);
    // The other user's resolve and plan deletion were kept too: each lands once, audited as it lands.
    const otherLate = (await auditOf(other.userKey)).filter((e) => e.outcome === "applied_after_outage").map((e) => e.action).sort();
    expect(otherLate).toEqual(["crisis.resolve", "crisis.safety_plan"]);
    expect((await rt.request("GET", "/v1/crisis/resources", { token: other.token })).json.safetyPlan).toBeNull();
    const resources = await rt.request("GET", "/v1/crisis/resources", { token: active.token });
    expect(resources.json.degraded).toBeUndefined();
    expect(resources.json.safetyPlan).toEqual(PLAN);
  });
});
