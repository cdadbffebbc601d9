import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { jobsHarness, lambdaContext, tick, type DayRecord } from "../helpers/jobs.js";
import { eventually, useRuntime } from "../helpers/runtime.js";
import { makeOp, syncClient } from "../helpers/sync.js";
import { dailyUsageIndexKey, dailyUsageKey, dayUsageKey, jobRunKey, userUsageKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
const sync = syncClient(rt);
const jobs = jobsHarness(rt, 2003);
const DAY_MS = 86_400_000;
let handler: typeof import("../../functions/jobs/usage-aggregation.js").handler;
type UsageJob = typeof import("@paysync/aws/jobs/usage-aggregation");
let runUsageAggregation: (options: Omit<Parameters<UsageJob["runUsageAggregation"]>[0], "audit">) => ReturnType<UsageJob["runUsageAggregation"]>;
let readAuditEntries: import("@paysync/aws/store/audit-log").AuditLog["entries"];

beforeAll(async () => {
  // The job runs in this process against the runtime's emulators, with a clock of our choosing.
  Object.assign(process.env, rt.handlerEnv());
  ({ handler } = await import("../../functions/jobs/usage-aggregation.js"));
  const usage = await import("@paysync/aws/jobs/usage-aggregation");
  const { wiring } = await import("@paysync/aws/wiring");
  runUsageAggregation = (options) => usage.runUsageAggregation({ ...options, audit: wiring.audit() });
  readAuditEntries = (range) => wiring.audit().entries(range);
  
});

const PLAN = { warningSigns: ["w"], copingStrategies: ["c"], reasonsForLiving: ["r"], distractions: [], peopleToAskForHelp: [], professionalsToContact: [], makingEnvironmentSafe: [] };
/** The scheduled run after `day`: it aggregates `day`. */
const runAfter = (day: string) => tick(new Date(Date.parse(`${day}T00:10:00.000Z`) + DAY_MS));
const usageOf = (userKey: string, day: string) => jobs.auditItem(userUsageKey(userKey, day));

/** The sync engine's daily data counter, as `UsageLimits.chargeDaily` leaves it. */
async function dataCounter(userKey: string, day: string, pushBytes: number, pullBytes: number) {
  await rt.dynamo.send(new PutCommand({
    TableName: rt.resources.tables.Sync,
    Item: { ...dailyUsageKey(userKey, day), bytes: pushBytes + pullBytes, pushBytes, pullBytes, ...dailyUsageIndexKey(day, userKey) },
  }));
}

const apply = (userKey: string, priority: number, at: string, outcome = "applied"): DayRecord =>
  ({ actor: "device", action: "sync.apply", userKey, entityType: "mood_entry", priority, outcome, latencyMs: 42, at });

/** Two users' day: A pushed and pulled and had five ops applied (one redelivered), B only a crisis op and a conflict. */
async function dayOfTwoUsers(day: string) {
  const a = jobs.newUserKey();
  const b = jobs.newUserKey();
  await dataCounter(a, day, 3_000, 7_000);
  await jobs.writeAuditDay(day, [
    [apply(a, 6, "08:00:00"), apply(a, 6, "08:00:01"), apply(a, 6, "08:00:02"), apply(a, 6, "08:00:03", "duplicate"),
      { actor: "device", action: "crisis.op", userKey: b, entityType: "safety_plan", priority: 10, outcome: "ok", latencyMs: 30, at: "09:00:00" }],
    [apply(a, 4, "10:00:00"), apply(b, 6, "10:00:01", "conflict"), apply(a, 3, "11:00:00", "lost_lww"),
      { actor: "device", action: "sync.push", userKey: a, outcome: "ok", latencyMs: 12, at: "10:00:02" }],
  ]);
  return { a, b };
}

describe("daily usage aggregation job", () => {
  it("aggregates a user's bytes and ops by priority from what the sync engine recorded today", async () => {
    // Prepare
    const user = await sync.user("usage", ["phone", "tablet"], "premium");
    const ops = [makeOp({ entityType: "mood_entry" }), makeOp({ entityType: "mood_entry" }), makeOp({ entityType: "check_in" })];
    const crisis = makeOp({ entityType: "safety_plan", entityId: "current", payload: PLAN });
    const pushed = await sync.push(user.token, user.devices.phone!, [...ops, crisis]);
    await sync.applied(user.userKey, ops.map((op) => op.opId));
    await eventually(async () => {
      const mine = (await readAuditEntries({ from: new Date(Date.now() - 120_000) })).filter((e) => e.userKey === user.userKey && e.action === "sync.apply");
      return mine.length >= ops.length ? mine : undefined;
    });
    await sync.pullAll(user.token, user.devices.tablet!);
    const today = new Date().toISOString().slice(0, 10);
    const counter = await sync.item(dailyUsageKey(user.userKey, today));

    // Act
    const outcome = await handler(tick(new Date(Date.now() + DAY_MS)), lambdaContext());

    // Assess
    expect(pushed.status).toBe(200);
    expect(outcome).toMatchObject({ status: "completed", day: today });
    expect(counter).toMatchObject({ pushBytes: expect.any(Number), pullBytes: expect.any(Number) });
    expect(await usageOf(user.userKey, today)).toMatchObject({
      day: today, bytes: counter!.bytes, pushBytes: counter!.pushBytes, pullBytes: counter!.pullBytes, opsP6: 2, opsP4: 1, opsP10: 1,
    });
  });

  it("counts each user's bytes and ops by priority for the day before, kept in the Audit table", async () => {
    // Prepare
    const day = jobs.uniqueDay();
    const { a, b } = await dayOfTwoUsers(day);

    // Act
    const outcome = await handler(runAfter(day), lambdaContext());

    // Assess
    expect(outcome).toMatchObject({ status: "completed", day, totals: { users: 1, bytes: 10_000, pushBytes: 3_000, pullBytes: 7_000, ops: { 3: 1, 4: 1, 6: 4, 10: 1 } } });
    expect(await usageOf(a, day)).toMatchObject({ day, bytes: 10_000, pushBytes: 3_000, pullBytes: 7_000, opsP6: 3, opsP4: 1, opsP3: 1 });
    expect(await usageOf(b, day)).toMatchObject({ day, opsP10: 1, opsP6: 1 });
    expect((await usageOf(b, day))?.bytes).toBeUndefined();
    expect(await jobs.auditItem(dayUsageKey(day))).toMatchObject({ users: 1, bytes: 10_000, ops: { 3: 1, 4: 1, 6: 4, 10: 1 } });
    expect(await jobs.auditItem(jobRunKey("usage-aggregation", day))).toMatchObject({ outcome: "completed", users: 1, bytes: 10_000, ops: 7 });
  });

  it("running it twice, or twice at once, counts nothing twice", async () => {
    // Prepare
    const day = jobs.uniqueDay();
    const { a, b } = await dayOfTwoUsers(day);

    // Act
    const together = await Promise.all([handler(runAfter(day), lambdaContext()), handler(runAfter(day), lambdaContext())]);
    const afterFirst = { a: await usageOf(a, day), b: await usageOf(b, day) };
    const again = await handler(runAfter(day), lambdaContext());

    // Assess
    expect(together.map((o) => o.status).sort()).toEqual(["completed", expect.stringMatching(/^(already_completed|lease_held)$/)]);
    expect(again).toMatchObject({ status: "already_completed", day });
    expect(afterFirst.a).toMatchObject({ opsP6: 3, opsP4: 1, bytes: 10_000 });
    expect({ a: await usageOf(a, day), b: await usageOf(b, day) }).toEqual(afterFirst);
  });

  it("a run interrupted mid-way resumes and finishes, and pages repeated after a crash count nothing twice", async () => {
    // Prepare: three counters (a page each) and ten ops in slices of three
    const day = jobs.uniqueDay();
    const users = [jobs.newUserKey(), jobs.newUserKey(), jobs.newUserKey()];
    for (const [i, userKey] of users.entries()) await dataCounter(userKey, day, 100 * (i + 1), 0);
    await jobs.writeAuditDay(day, [Array.from({ length: 10 }, (_, i) => apply(users[i % 3]!, 6, `12:00:${String(i).padStart(2, "0")}`))]);
    const run = (pages: number) => runUsageAggregation({ day, now: new Date(), pageSize: 1, sliceEntries: 3, remainingMs: lambdaContext(pages).getRemainingTimeInMillis });

    // Act
    const first = await run(5);
    const checkpointed = await jobs.jobState("usage-aggregation");
    const second = await run(2);
    // A crash after those two pages' writes but before their checkpoints: they run again.
    await jobs.restoreJobState(checkpointed!);
    const resumed = await run(100);

    // Assess
    expect([first.status, second.status, resumed.status]).toEqual(["paused", "paused", "completed"]);
    expect(checkpointed?.checkpoint.phase).toBe("ops");
    expect(resumed.totals).toMatchObject({ users: 3, bytes: 600, ops: { 6: 10 } });
    const records = await Promise.all(users.map((userKey) => usageOf(userKey, day)));
    expect(records.map((r) => [r?.bytes, r?.opsP6])).toEqual([[100, 4], [200, 3], [300, 3]]);
  });
});
