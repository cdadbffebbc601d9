import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { AuditEntry } from "@paysync/core/audit/chain";
import { jobsHarness, lambdaContext, tick } from "../helpers/jobs.js";
import { useRuntime } from "../helpers/runtime.js";
import { auditEntryKey, jobRunKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
const jobs = jobsHarness(rt, 2005);
type Observability = typeof import("@paysync/aws/base/observability");
let handler: typeof import("../../functions/jobs/audit-verify.js").handler;
let readAuditEntries: import("@paysync/aws/store/audit-log").AuditLog["entries"];
let observability: Observability;

beforeAll(async () => {
  // The job runs in this process against the runtime's emulators.
  Object.assign(process.env, rt.handlerEnv());
  ({ handler } = await import("../../functions/jobs/audit-verify.js"));
  const { wiring } = await import("@paysync/aws/wiring");
  readAuditEntries = (range) => wiring.audit().entries(range);
  
  observability = await import("@paysync/aws/base/observability");
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A closed day's chain of four job entries. */
async function closedDay() {
  const day = jobs.uniqueDay();
  const [entries] = await jobs.writeAuditDay(day, [[1, 2, 3, 4].map((i) => ({ actor: "job" as const, action: "jobs_it.entry", outcome: "ok", at: `10:00:0${i}` }))]);
  return { day, entries: entries! };
}

const putEntry = (entry: AuditEntry) => rt.dynamo.send(new PutCommand({
  TableName: rt.resources.tables.Audit, Item: { ...auditEntryKey(entry.chain, entry.seq), ...entry },
}));

/** What the job told operators: the `AuditChainsBroken` metric values and the error logs. */
function watch() {
  const metric = vi.spyOn(observability.metrics, "addMetric");
  const errors = vi.spyOn(observability.logger, "error");
  return {
    brokenMetric: () => metric.mock.calls.filter(([name]) => name === "AuditChainsBroken").map(([, , value]) => value),
    errorLogs: () => errors.mock.calls.map(([message, extra]) => ({ message, extra: extra as any })),
  };
}

describe("audit-chain verification job", () => {
  it("verifies the trail, seals the days that are over, and tells with a metric and an audit entry what it found", async () => {
    // Prepare
    const { day, entries } = await closedDay();
    const seen = watch();
    const from = new Date();

    // Act
    const outcome = await handler(tick(new Date()), lambdaContext());

    // Assess
    // Other suites share the trail: what this run found elsewhere is reported, whatever it is.
    const { intact, broken, sealedNow } = outcome.verification!;
    expect(outcome.status).toBe("completed");
    expect(sealedNow).toContain(day);
    expect(broken.filter((b) => b.chain === entries[0]!.chain)).toEqual([]);
    expect(intact).toBe(broken.length === 0);
    expect(seen.brokenMetric()).toEqual([broken.length]);
    expect(seen.errorLogs()).toEqual(intact ? [] : [expect.objectContaining({ message: "audit chain broken" })]);
    const verdicts = (await readAuditEntries({ from })).filter((e) => e.action === "job.audit-verify").map((e) => [e.actor, e.outcome]);
    expect(verdicts).toEqual([intact ? ["job", "intact"] : ["system", "broken"]]);
  });

  it("reports a tampered entry with its chain, seq and reason — metric, error log, system audit entry — and not once it is repaired", async () => {
    // Prepare
    const { entries } = await closedDay();
    const target = entries[1]!;
    await putEntry({ ...target, outcome: "denied" });
    const seen = watch();
    const from = new Date();

    // Act
    let broken;
    try {
      broken = await handler(tick(new Date()), lambdaContext());
    } finally {
      await putEntry(target);
    }
    const repairedAt = new Date(Date.now() + 1);
    const repaired = await handler(tick(repairedAt), lambdaContext());

    // Assess
    const found = { chain: target.chain, brokenAt: 2, reason: "content_changed" };
    expect(broken).toMatchObject({ status: "completed", verification: { intact: false } });
    expect(broken!.verification!.broken).toContainEqual(expect.objectContaining(found));
    expect(seen.brokenMetric()[0]).toBeGreaterThanOrEqual(1);
    expect(seen.errorLogs()).toContainEqual({ message: "audit chain broken", extra: expect.objectContaining({ broken: expect.arrayContaining([expect.objectContaining(found)]) }) });
    const verdicts = (await readAuditEntries({ from })).filter((e) => e.action === "job.audit-verify").map((e) => [e.actor, e.outcome]);
    expect(verdicts).toContainEqual(["system", "broken"]);
    expect(repaired.verification!.broken.filter((b) => b.chain === target.chain)).toEqual([]);
    expect(await jobs.auditItem(jobRunKey("audit-verify", repairedAt.toISOString()))).toMatchObject({ broken: repaired.verification!.broken.length });
  });

  it("running it twice, or twice at once, verifies once per scheduled time", async () => {
    // Prepare
    const at = new Date();

    // Act
    const together = await Promise.all([handler(tick(at), lambdaContext()), handler(tick(at), lambdaContext())]);
    const again = await handler(tick(at), lambdaContext());

    // Assess
    expect(together.map((o) => o.status).sort()).toEqual(["completed", expect.stringMatching(/^(already_completed|lease_held)$/)]);
    expect(again).toEqual({ status: "already_completed" });
  });

  it("a run with no time left stops before it starts, and the next run of that tick does the work", async () => {
    // Prepare
    const at = new Date();

    // Act
    const stopped = await handler(tick(at), lambdaContext(0));
    const resumed = await handler(tick(at), lambdaContext());

    // Assess
    expect(stopped).toMatchObject({ status: "paused", pages: 0 });
    expect(resumed).toMatchObject({ status: "completed", verification: { sealedNow: expect.any(Array) } });
  });
});
