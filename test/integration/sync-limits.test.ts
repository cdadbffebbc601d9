import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { useRuntime } from "../helpers/runtime.js";
import { FEED_START, makeOp, syncClient } from "../helpers/sync.js";
import { bandwidthKey, dailyUsageKey, pendingCountKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
const sync = syncClient(rt);
const KiB = 1024;
const MiB = 1024 * KiB;

const PLAN = {
  warningSigns: ["cannot sleep"], copingStrategies: ["walk"], reasonsForLiving: ["my sister"],
  distractions: [], peopleToAskForHelp: [], professionalsToContact: [], makingEnvironmentSafe: [],
};
const sized = (bytes: number) => ({ blob: "x".repeat(bytes) });
/** The ops that must pass every limit: crisis (10) and an active breathing session (8). */
const exemptOps = () => [
  makeOp({ entityType: "safety_plan", entityId: "current", payload: PLAN }),
  makeOp({ entityType: "breathing_session" }),
];
const today = () => new Date().toISOString().slice(0, 10);

async function put(item: Record<string, unknown>) {
  await rt.dynamo.send(new PutCommand({ TableName: rt.resources.tables.Sync, Item: item }));
}

function expectExemptPassed(results: any[]) {
  expect(results.slice(-2).map((r) => [r.status, r.priority, r.lane])).toEqual([["applied", 10, "crisis"], ["queued", 8, "realtime"]]);
}

describe("a payload over 256 KiB", () => {
  it("refuses the whole push with 413 and applies nothing, not even its crisis op", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("too-large", ["phone", "tablet"]);
    const big = makeOp({ payload: sized(257 * KiB) });

    // Act
    const response = await sync.push(token, devices.phone!, [...exemptOps(), big]);

    // Assess
    expect(response.status).toBe(413);
    expect(response.json.error).toMatchObject({ code: "payload_too_large", details: { ops: [{ opId: big.opId }] } });
    expect(await sync.feed(userKey, devices.tablet!)).toEqual([]);
  });
});

/**
 * Every limit, on the free tier (1 MiB per push, 20 KiB/s, 20 MiB a day, 10 pending ops):
 * alone the limited ops get 429 naming the limit; with crisis and priority-8 ops in the same
 * push, those pass and the answer is 200 with the others `rejected`.
 */
describe.each([
  {
    limit: "push_bytes",
    prepare: async () => undefined,
    limitedOps: () => Array.from({ length: 5 }, () => makeOp({ payload: sized(220 * KiB) })),
    retryAfter: (seconds: number) => expect(seconds).toBe(1),
  },
  {
    limit: "bandwidth",
    prepare: async (userKey: string) => put({ ...bandwidthKey(userKey), tokens: -100 * KiB, updatedAtMs: Date.now(), rev: 1 }),
    limitedOps: () => [makeOp()],
    retryAfter: (seconds: number) => expect(seconds).toBeGreaterThanOrEqual(5),
  },
  {
    limit: "daily_data",
    prepare: async (userKey: string) => put({ ...dailyUsageKey(userKey, today()), bytes: 20 * MiB - 10 }),
    limitedOps: () => [makeOp()],
    retryAfter: (seconds: number) => expect(seconds).toBeLessThanOrEqual(24 * 3600),
  },
  {
    limit: "offline_queue",
    prepare: async (userKey: string) => put({ ...pendingCountKey(userKey), pending: 10 }),
    limitedOps: () => [makeOp(), makeOp()],
    retryAfter: (seconds: number) => expect(seconds).toBe(60),
  },
])("the $limit limit", ({ limit, prepare, limitedOps, retryAfter }) => {
  it("answers 429 with Retry-After and the limit when it refuses every op", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user(`alone-${limit}`, ["phone"]);
    await prepare(userKey);
    const ops = limitedOps();

    // Act
    const response = await sync.push(token, devices.phone!, ops);

    // Assess
    expect(response.status).toBe(429);
    expect(response.json.error).toMatchObject({ code: "limit_exceeded", details: { limit } });
    expect(response.json.error.details.results.every((r: any) => r.status === "rejected" && r.reason === `limit_exceeded:${limit}`)).toBe(true);
    retryAfter(Number(response.headers.get("retry-after")));
  });

  it("lets crisis and priority-8 ops through in the same push", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user(`mixed-${limit}`, ["phone", "tablet"]);
    await prepare(userKey);
    const limited = limitedOps();
    const exempt = exemptOps();

    // Act
    const response = await sync.push(token, devices.phone!, [...limited, ...exempt]);
    await sync.applied(userKey, [exempt[1]!.opId]);
    const tabletSees = await sync.pullAll(token, devices.tablet!);

    // Assess
    expect(response.status).toBe(200);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(response.json.results.slice(0, limited.length).map((r: any) => r.reason)).toEqual(limited.map(() => `limit_exceeded:${limit}`));
    expectExemptPassed(response.json.results);
    // Free has no cross-device sync: the session is applied, and only the crisis change travels.
    expect(await sync.entity(userKey, "breathing_session", exempt[1]!.entityId)).toMatchObject({ version: 1, priority: 8 });
    expect(tabletSees.map((c) => c.entityType)).toEqual(["safety_plan"]);
  });
});

describe("the offline queue", () => {
  it("takes ops in request order up to the limit, refuses the rest, and frees the slots once applied", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("queue", ["phone"]);
    const ops = Array.from({ length: 12 }, () => makeOp());

    // Act
    const response = await sync.push(token, devices.phone!, ops);
    await sync.applied(userKey, ops.slice(0, 10).map((o) => o.opId));

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.results.map((r: any) => r.status)).toEqual([...Array(10).fill("queued"), "rejected", "rejected"]);
    expect(response.headers.get("retry-after")).toBe("60");
    expect(await sync.pendingCount(userKey)).toBe(0);
  });
});

describe("a pull over the daily data allowance", () => {
  it("is refused with 429 until a crisis change is waiting, which it then delivers", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("pull-daily", ["phone", "tablet"]);
    await put({ ...dailyUsageKey(userKey, today()), bytes: 20 * MiB });

    // Act
    const refused = await sync.pull(token, devices.tablet!, { cursor: FEED_START });
    await sync.push(token, devices.phone!, [makeOp({ entityType: "safety_plan", entityId: "current", payload: PLAN })]);
    const served = await sync.pull(token, devices.tablet!, { cursor: FEED_START });

    // Assess
    expect(refused.status).toBe(429);
    expect(refused.json.error.details.limit).toBe("daily_data");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(served.status).toBe(200);
    expect(served.json.changes.map((c: any) => [c.entityType, c.priority])).toEqual([["safety_plan", 10]]);
  });
});

describe("an active session's writes (priority 8): never throttled, but bounded", () => {
  it("a free user's session is refused past the active-session ceiling, and nothing else is", async () => {
    // Prepare: 10 MiB a session a day; 250 KiB ops, ten to a request (no tier limit applies to them)
    const { token, userKey, devices } = await sync.user("session-ceiling", ["phone", "tablet"], "free");
    const sessionOp = () => makeOp({ entityType: "therapeutic_session", entityId: "mbct-flood", payload: sized(250 * KiB) });

    // Act
    const answers = [];
    for (let request = 0; request < 5; request++) {
      answers.push(await sync.push(token, devices.phone!, Array.from({ length: 10 }, sessionOp)));
    }
    const anotherSession = await sync.push(token, devices.phone!, [makeOp({ entityType: "breathing_session", entityId: "breath-1" })]);
    const crisis = await sync.push(token, devices.phone!, [makeOp({ entityType: "safety_plan", entityId: "current", payload: PLAN })]);

    // Assess: the first 4 MiB-ish requests pass, one then goes over 10 MiB and is refused whole
    const statuses = answers.map((a) => a.status);
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses[4]).toBe(429);
    expect(answers[4]!.json.error).toMatchObject({ code: "limit_exceeded", details: { limit: "session_ceiling" } });
    expect(Number(answers[4]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(anotherSession.json.results[0]).toMatchObject({ status: "queued", priority: 8 });
    expect(crisis.json.results[0]).toMatchObject({ status: "applied", priority: 10 });
    const queued = answers.slice(0, 4).flatMap((a) => a.json.results).filter((r: any) => r.status === "queued");
    await sync.applied(userKey, queued.map((r: any) => r.opId));
  });
});
