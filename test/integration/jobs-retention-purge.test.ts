import { beforeAll, describe, expect, it } from "vitest";
import type { Tier } from "@paysync/core/tiers";
import type { FeedChange } from "@paysync/aws/store/change-feed";
import { jobsHarness, lambdaContext, tick } from "../helpers/jobs.js";
import { useRuntime } from "../helpers/runtime.js";
import { syncClient } from "../helpers/sync.js";
import { jobRunKey, purgeWatermarkKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
const sync = syncClient(rt);
const jobs = jobsHarness(rt, 2002);
const DAY_MS = 86_400_000;
type Purge = typeof import("@paysync/aws/jobs/retention-purge");
let handler: typeof import("../../functions/jobs/retention-purge.js").handler;
let runRetentionPurge: Purge["runRetentionPurge"];
let readAuditEntries: import("@paysync/aws/store/audit-log").AuditLog["entries"];
let feed: InstanceType<typeof import("@paysync/aws/store/change-feed").ChangeFeed>;
let deps: () => Pick<Parameters<Purge["runRetentionPurge"]>[0], "tiers" | "audit">;

beforeAll(async () => {
  // The job runs in this process against the runtime's emulators, with a clock of our choosing.
  Object.assign(process.env, rt.handlerEnv());
  ({ handler } = await import("../../functions/jobs/retention-purge.js"));
  ({ runRetentionPurge } = await import("@paysync/aws/jobs/retention-purge"));
  const { wiring } = await import("@paysync/aws/wiring");
  readAuditEntries = (range) => wiring.audit().entries(range);
  feed = wiring.feed();
  deps = () => ({ tiers: wiring.tiers(), audit: wiring.audit() });
});

/** Ages (days) of the changes waiting in each device's feed, oldest first; the crisis ones are safety-plan changes. */
const AGES = [31, 29, 22, 20, 15, 13, 8, 6, 0.5];
const CRISIS_AGES = [31, 10];

/**
 * A user on `tier` with a phone and a tablet that have pulled nothing: one change a day at each
 * age lands in both feeds, appended at its own (past) time, as the sync engine would have.
 */
async function userWithWaitingChanges(tier: Tier, now: Date) {
  const user = await sync.user("purge", ["phone", "tablet"], tier);
  const changes = [
    ...AGES.map((days) => ({ days, entityType: "check_in", priority: 4 })),
    ...CRISIS_AGES.map((days) => ({ days, entityType: "safety_plan", priority: 10 })),
  ].sort((a, b) => b.days - a.days);
  const ciphers = new Map<string, string>();
  for (const type of new Set(changes.map((c) => c.entityType))) {
    ciphers.set(type, await rt.cipher().encrypt({ note: "waiting" }, { userKey: user.userKey, entityType: type }));
  }
  for (const change of changes) {
    const entry: FeedChange = {
      // The id says how old the change is: `check_in-d0.5`.
      entityType: change.entityType, entityId: `${change.entityType}-d${String(change.days).replace(".", "_")}`, version: 1, action: "upsert",
      payloadCipher: ciphers.get(change.entityType)!, priority: change.priority, originDeviceId: "server", targetDeviceIds: Object.values(user.devices),
    };
    await feed.append(user.userKey, [entry], [], new Date(now.getTime() - change.days * DAY_MS));
  }
  return user;
}

/**
 * What the device's feed still holds for it: `<entityType>@<age>` per change, in feed order.
 * (Read from the table: a cursor below the purge watermark answers 410 and the device rebuilds
 * itself from a snapshot, so the feed's remaining entries are what retention decided.)
 */
async function pulledByDevice(user: Awaited<ReturnType<typeof userWithWaitingChanges>>, device: string) {
  const changes = await sync.feed(user.userKey, user.devices[device]!);
  return changes.map((c) => `${c.entityType}@${String(c.entityId).split("-d")[1]!.replace("_", ".")}`);
}

/**
 * The purge's run key is the day of its clock, so each run here gets a day of its own, a few
 * days ahead (the other suites' changes, made today, stay within every retention).
 */
let daysAhead = 0;
const nextPurgeDay = () => new Date(Date.now() + daysAhead++ * DAY_MS);

const rawFeed = async (user: { userKey: string; devices: Record<string, string> }, device: string) =>
  (await sync.feed(user.userKey, user.devices[device]!)).map((item) => item.sk as string);

const kept = (days: number, crisisDays = 30) => [
  ...[...AGES.filter((age) => age <= days).map((age) => ({ age, entry: `check_in@${age}` })),
    ...CRISIS_AGES.filter((age) => age <= crisisDays).map((age) => ({ age, entry: `safety_plan@${age}` }))]
    .sort((a, b) => b.age - a.age).map((c) => c.entry),
];

describe("retention purge job", () => {
  it("keeps every change a device has not pulled while it is within the tier's retention, and removes the older ones", async () => {
    // Prepare
    const cases: Array<{ tier: Tier; retentionDays: number }> = [
      { tier: "free", retentionDays: 7 },
      { tier: "trial", retentionDays: 7 },
      { tier: "basic", retentionDays: 14 },
      { tier: "grace_period", retentionDays: 21 },
      { tier: "premium", retentionDays: 30 },
    ];
    const now = nextPurgeDay();
    const users = await Promise.all(cases.map((c) => userWithWaitingChanges(c.tier, now)));

    // Act
    const outcome = await handler(tick(now), lambdaContext());

    // Assess
    expect(outcome.status).toBe("completed");
    for (const [i, c] of cases.entries()) {
      const pulled = { phone: await pulledByDevice(users[i]!, "phone"), tablet: await pulledByDevice(users[i]!, "tablet") };
      expect({ tier: c.tier, ...pulled }).toEqual({ tier: c.tier, phone: kept(c.retentionDays), tablet: kept(c.retentionDays) });
    }
  });

  it("removes every change waiting for a device that is no longer registered, and no other device's", async () => {
    // Prepare
    const now = nextPurgeDay();
    const user = await userWithWaitingChanges("premium", now);
    const removal = await rt.request("DELETE", `/v1/devices/${user.devices.tablet}`, { token: user.token });

    // Act
    const outcome = await handler(tick(now), lambdaContext());

    // Assess
    expect(removal.status).toBe(204);
    expect(outcome.status).toBe("completed");
    expect(await rawFeed(user, "tablet")).toEqual([]);
    expect(await pulledByDevice(user, "phone")).toEqual(kept(30));
  });

  it("raises the device's purge watermark to the newest change it removed, so a stale cursor can be told to resync", async () => {
    // Prepare
    const now = nextPurgeDay();
    const user = await userWithWaitingChanges("free", now);
    const before = await sync.feed(user.userKey, user.devices.phone!);

    // Act
    await handler(tick(now), lambdaContext());

    // Assess
    const after = new Set((await sync.feed(user.userKey, user.devices.phone!)).map((item) => item.seq));
    const newestRemoved = Math.max(...before.map((item) => item.seq as number).filter((seq) => !after.has(seq)));
    const mark = await sync.item(purgeWatermarkKey(user.userKey, user.devices.phone!));
    expect(mark).toMatchObject({ highestPurgedSeq: newestRemoved });
    expect(Math.min(...after)).toBeGreaterThan(0);
  });

  it("records the run's counts and an audit entry, neither naming a user", async () => {
    // Prepare
    const now = nextPurgeDay();
    const user = await userWithWaitingChanges("basic", now);
    const from = new Date();

    // Act
    const outcome = await handler(tick(now), lambdaContext());

    // Assess
    expect(outcome.status).toBe("completed");
    const entries = (await readAuditEntries({ from })).filter((e) => e.action === "job.retention-purge");
    expect(entries).toEqual([expect.objectContaining({ actor: "job", outcome: "completed" })]);
    expect(entries[0]!.userKey).toBeUndefined();
    const record = await jobs.auditItem(jobRunKey("retention-purge", now.toISOString().slice(0, 10)));
    expect(record).toMatchObject({ outcome: "completed", purged: outcome.counts!.purged, pastRetention: outcome.counts!.pastRetention });
    expect(outcome.counts!.pastRetention).toBeGreaterThanOrEqual(2 * (AGES.filter((age) => age > 14).length + CRISIS_AGES.filter((age) => age > 30).length));
    expect(JSON.stringify(record)).not.toContain(user.userKey);
  });

  it("running it twice, or twice at once, removes nothing more", async () => {
    // Prepare
    const now = nextPurgeDay();
    const user = await userWithWaitingChanges("trial", now);

    // Act
    const together = await Promise.all([handler(tick(now), lambdaContext()), handler(tick(now), lambdaContext())]);
    const afterFirst = { phone: await rawFeed(user, "phone"), tablet: await rawFeed(user, "tablet") };
    const laterThatDay = await handler(tick(new Date(now.getTime() + 60_000)), lambdaContext());
    const anotherRunSameClock = await runRetentionPurge({ ...deps(), now, runKey: `again-${now.toISOString()}` });

    // Assess
    expect(together.map((o) => o.status).sort()).toEqual(["completed", expect.stringMatching(/^(already_completed|lease_held)$/)]);
    expect(laterThatDay).toEqual({ status: "already_completed" });
    expect(anotherRunSameClock.status).toBe("completed");
    expect({ phone: await rawFeed(user, "phone"), tablet: await rawFeed(user, "tablet") }).toEqual(afterFirst);
    expect(await pulledByDevice(user, "phone")).toEqual(kept(7));
  });

  it.each([
    {
      case: "its time runs out after one page",
      first: (now: Date) => runRetentionPurge({ ...deps(), now, runKey: `paused-${now.toISOString()}`, pageSize: 25, remainingMs: lambdaContext(1).getRemainingTimeInMillis }),
      expected: "paused",
    },
    {
      case: "a tier lookup fails",
      first: (now: Date, userKey: string) => runRetentionPurge({
        ...deps(), now, runKey: `failed-${now.toISOString()}`, pageSize: 25,
        tiers: { effectiveTier: async (key: string): Promise<Tier> => { if (key === userKey) throw new Error("Payments table unavailable"); return "free"; } },
      }),
      expected: "rejected",
    },
  ])("a purge interrupted because $case resumes where it stopped and finishes", async ({ first, expected }) => {
    // Prepare
    const now = new Date();
    const user = await userWithWaitingChanges("free", now);
    const runKey = expected === "paused" ? `paused-${now.toISOString()}` : `failed-${now.toISOString()}`;

    // Act
    const interrupted = await first(now, user.userKey).then((o) => o.status, () => "rejected");
    const stoppedAt = (await jobs.jobState("retention-purge"))?.checkpoint;
    const resumed = await runRetentionPurge({ ...deps(), now, runKey });
    const again = await runRetentionPurge({ ...deps(), now, runKey });

    // Assess
    expect(interrupted).toBe(expected);
    if (expected === "paused") expect(resumed.counts!.scanned).toBeGreaterThan(stoppedAt.counts.scanned);
    expect(resumed.status).toBe("completed");
    expect(again).toEqual({ status: "already_completed" });
    expect(await pulledByDevice(user, "phone")).toEqual(kept(7));
    expect(await pulledByDevice(user, "tablet")).toEqual(kept(7));
  });
});
