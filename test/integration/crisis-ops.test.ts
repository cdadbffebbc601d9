import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import type { CrisisOpInput, CrisisService } from "@paysync/aws/crisis/crisis-service";
import type { CrisisTelemetry } from "@paysync/aws/crisis/crisis-telemetry";
import { pseudonymousKey } from "@paysync/core/pii";
import { useRuntime, scanAll } from "../helpers/runtime.js";
import { deviceKey, entityKey, feedPartition, historyKey, type TableKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
let service: CrisisService;
let recordCrisisCall: CrisisTelemetry["record"];

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  const { wiring } = await import("@paysync/aws/wiring");
  service = wiring.crisisService();
  recordCrisisCall = (call) => wiring.crisisTelemetry().record(call);
});

let seq = 0;
const PLAN = { warningSigns: ["w"], copingStrategies: ["c"], reasonsForLiving: ["r"], distractions: [], peopleToAskForHelp: [], professionalsToContact: [], makingEnvironmentSafe: [] };

/** A user with a phone and a tablet, registered over HTTP; crisis ops come from the phone. */
async function setup() {
  const userId = `crisis-op-${Date.now()}-${++seq}`;
  const token = await rt.token(userId);
  // Device ids are metadata (table keys): they must not carry the raw user id.
  const phone = `phone-${Date.now()}-${seq}`;
  const tablet = `tablet-${Date.now()}-${seq}`;
  for (const deviceId of [phone, tablet]) await rt.request("POST", "/v1/devices", { token, body: { deviceId, platform: "android" } });
  const userKey = pseudonymousKey(rt.secrets.pseudonymSecret, userId, "u");
  const op = (overrides: Partial<CrisisOpInput>): CrisisOpInput => ({
    userKey, deviceId: phone, opId: `op-${++seq}`, entityType: "safety_plan", entityId: "current", action: "upsert",
    baseVersion: 0, clientTime: new Date().toISOString(), payload: PLAN, priority: 10, ...overrides,
  });
  return { userKey, phone, tablet, op };
}

const get = async (key: TableKey) =>
  (await rt.dynamo.send(new GetCommand({ TableName: rt.resources.tables.Sync, Key: key, ConsistentRead: true }))).Item;
const feedOf = async (userKey: string, deviceId: string) => (await rt.dynamo.send(new QueryCommand({
  TableName: rt.resources.tables.Sync, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": feedPartition(userKey, deviceId) }, ConsistentRead: true,
}))).Items ?? [];
const decrypt = (userKey: string, entityType: string, cipher: string) => rt.cipher().decrypt(cipher, { userKey, entityType });

describe("crisis-class ops handed over by a sync push", () => {
  it.each([
    { case: "a PHQ-9 with self-harm thoughts on most days", payload: { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0, 2] }, level: "imminent" },
    { case: "a PHQ-9 total of 20", payload: { instrument: "PHQ-9", answers: [3, 3, 3, 3, 3, 3, 2, 0, 0] }, level: "high" },
    { case: "a GAD-7 of 15", payload: { instrument: "GAD-7", answers: [3, 3, 3, 3, 3, 0, 0], takenAt: "2026-03-01" }, level: "moderate" },
  ])("store $case and activate crisis mode with source assessment, in one transaction", async ({ payload, level }) => {
    // Prepare
    const { userKey, phone, tablet, op } = await setup();

    // Act
    const result = await service.applyCrisisOp(op({ entityType: "assessment", entityId: "a1", payload, priority: 9 }));

    // Assess
    expect(result).toEqual({ status: "applied", version: 1 });
    const assessment = await get(entityKey(userKey, "assessment", "a1"));
    expect(assessment).toMatchObject({ priority: 9, version: 1 });
    expect(await decrypt(userKey, "assessment", assessment!.payloadCipher)).toEqual(payload);
    expect((await service.resources(userKey)).crisisMode).toMatchObject({ active: true, level, source: "assessment" });
    expect((await feedOf(userKey, tablet)).map((c) => [c.entityType, c.priority])).toEqual([["assessment", 9], ["crisis_state", 10]]);
    expect(await feedOf(userKey, phone)).toEqual([]);
    expect((await get(deviceKey(userKey, phone)))?.crisisMode).toBe(true);
  });

  it("stores an under-threshold assessment without activating crisis mode or fanning it out", async () => {
    // Prepare
    const { userKey, tablet, op } = await setup();

    // Act
    const result = await service.applyCrisisOp(op({ entityType: "assessment", entityId: "a2", payload: { instrument: "GAD-7", answers: [2, 2, 2, 2, 2, 2, 2] }, priority: 9 }));

    // Assess
    expect(result.status).toBe("applied");
    expect((await get(entityKey(userKey, "assessment", "a2")))?.priority).toBe(6);
    expect(await get(entityKey(userKey, "crisis_state", "current"))).toBeUndefined();
    expect(await feedOf(userKey, tablet)).toEqual([]);
  });

  it("applies an op once: the same opId again is a duplicate with the same version", async () => {
    // Prepare
    const { userKey, tablet, op } = await setup();
    const once = op({});

    // Act
    const results = [await service.applyCrisisOp(once), await service.applyCrisisOp(once)];

    // Assess
    expect(results).toEqual([{ status: "applied", version: 1 }, { status: "duplicate", version: 1 }]);
    expect(await feedOf(userKey, tablet)).toHaveLength(1);
  });

  it("applies concurrent duplicates of one op exactly once", async () => {
    // Prepare
    const { userKey, tablet, op } = await setup();
    const once = op({});

    // Act
    const results = await Promise.all(Array.from({ length: 5 }, () => service.applyCrisisOp(once)));

    // Assess
    expect(results.filter((r) => r.status === "applied")).toHaveLength(1);
    expect(new Set(results.map((r) => r.version))).toEqual(new Set([1]));
    expect(await feedOf(userKey, tablet)).toHaveLength(1);
  });

  it("applies a stale safety-plan edit anyway, keeping the version it replaced in history", async () => {
    // Prepare
    const { userKey, op } = await setup();
    await service.applyCrisisOp(op({ payload: { ...PLAN, warningSigns: ["first"] } }));
    await service.applyCrisisOp(op({ payload: { ...PLAN, warningSigns: ["second"] }, baseVersion: 1 }));

    // Act
    const result = await service.applyCrisisOp(op({ payload: { ...PLAN, warningSigns: ["stale"] }, baseVersion: 1 }));

    // Assess
    expect(result).toEqual({ status: "applied", version: 3 });
    const history = await get(historyKey(userKey, "safety_plan", "current", 2));
    expect(await decrypt(userKey, "safety_plan", history!.payloadCipher)).toMatchObject({ warningSigns: ["second"] });
    expect((await service.resources(userKey)).safetyPlan?.warningSigns).toEqual(["stale"]);
  });

  it.each([
    { case: "active with a level activates", action: "upsert", payload: { active: true, level: "moderate" }, active: true },
    { case: "inactive resolves", action: "upsert", payload: { active: false }, active: false },
    { case: "a delete resolves", action: "delete", payload: null, active: false },
  ] as const)("treats a pushed crisis_state op as the per-user crisis mode: $case", async ({ action, payload, active }) => {
    // Prepare
    const { userKey, op } = await setup();
    await service.applyCrisisOp(op({ entityType: "crisis_state", payload: { active: true, level: "high" } }));

    // Act
    await service.applyCrisisOp(op({ entityType: "crisis_state", entityId: "device-named-id", action, payload }));

    // Assess
    expect((await service.resources(userKey)).crisisMode.active).toBe(active);
    expect(await get(entityKey(userKey, "crisis_state", "device-named-id"))).toBeUndefined();
  });

  it.each([
    { case: "a malformed safety plan", entityType: "safety_plan", payload: { warningSigns: "not a list" }, error: "ValidationError" },
    { case: "contacts as a bare list", entityType: "emergency_contacts", payload: [{ name: "Sam" }], error: "ValidationError" },
    { case: "an assessment with 8 PHQ-9 answers", entityType: "assessment", payload: { instrument: "PHQ-9", answers: [3, 3, 3, 3, 3, 3, 3, 3] }, error: "ValidationError" },
    { case: "a crisis_state without a level", entityType: "crisis_state", payload: { active: true }, error: "ValidationError" },
    { case: "an op from another user's device", entityType: "safety_plan", payload: PLAN, error: "NotFoundError", device: "someone-elses" },
  ] as const)("rejects $case and stores nothing", async ({ entityType, payload, error, ...rest }) => {
    // Prepare
    const { userKey, tablet, op } = await setup();
    const deviceId = "device" in rest ? rest.device : undefined;

    // Act
    const attempt = service.applyCrisisOp(op({ entityType, payload, ...(deviceId ? { deviceId } : {}) }));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: error });
    expect((await service.resources(userKey)).safetyPlan).toBeNull();
    expect(await feedOf(userKey, tablet)).toEqual([]);
  });
});

describe("crisis call telemetry", () => {
  it.each([
    { case: "a call within 200 ms leaves one audit entry", latencyMs: 12.3, actions: ["crisis.op"] },
    { case: "a call over 200 ms also leaves an SLO breach entry", latencyMs: 250, actions: ["crisis.op", "crisis.slo_breach"] },
  ])("$case, with its latency", async ({ latencyMs, actions }) => {
    // Prepare
    const { userKey } = await setup();

    // Act
    await recordCrisisCall({ route: "op", userKey, entityType: "safety_plan", priority: 10, outcome: "ok", latencyMs });

    // Assess
    const entries = (await scanAll(rt.dynamo, {
      TableName: rt.resources.tables.Audit, FilterExpression: "userKey = :u", ExpressionAttributeValues: { ":u": userKey }, ConsistentRead: true,
    }));
    expect(entries.map((e) => e.action).sort()).toEqual(actions);
    expect(entries.every((e) => e.latencyMs === latencyMs && e.priority === 10 && e.outcome === "ok")).toBe(true);
  });
});
