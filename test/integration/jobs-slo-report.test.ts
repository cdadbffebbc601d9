import { beforeAll, describe, expect, it } from "vitest";
import { jobsHarness, lambdaContext, tick, type DayRecord } from "../helpers/jobs.js";
import { useRuntime } from "../helpers/runtime.js";
import { jobRunKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
const jobs = jobsHarness(rt, 2004);
const DAY_MS = 86_400_000;
type SloJob = typeof import("@paysync/aws/jobs/slo-report");
let handler: typeof import("../../functions/jobs/slo-report.js").handler;
let runSloReport: (options: Omit<Parameters<SloJob["runSloReport"]>[0], "audit">) => ReturnType<SloJob["runSloReport"]>;
let readSloReport: SloJob["readSloReport"];

beforeAll(async () => {
  // The job runs in this process against the runtime's emulators, with a clock of our choosing.
  Object.assign(process.env, rt.handlerEnv());
  ({ handler } = await import("../../functions/jobs/slo-report.js"));
  const slo = await import("@paysync/aws/jobs/slo-report");
  const { wiring } = await import("@paysync/aws/wiring");
  runSloReport = (options) => slo.runSloReport({ ...options, audit: wiring.audit() });
  readSloReport = slo.readSloReport;
});

const runAfter = (day: string) => tick(new Date(Date.parse(`${day}T00:20:00.000Z`) + DAY_MS));
const clock = (i: number) => `${String(Math.floor(i / 3600) % 24).padStart(2, "0")}:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}`;
const applies = (priority: number, latencies: number[], from: number): DayRecord[] => latencies.map((latencyMs, i) =>
  ({ actor: "device", action: "sync.apply", userKey: `u_${"ef".repeat(16)}`, entityType: "mood_entry", priority, outcome: "applied", latencyMs, at: clock(from + i) }));
const crisis = (action: string, latencyMs: number, at: string, priority = 10): DayRecord =>
  ({ actor: "device", action, userKey: `u_${"ef".repeat(16)}`, priority, outcome: "ok", latencyMs, at });

/**
 * A day on two chains: premium-realtime applies all fast; assessment-data applies with 2 of 20
 * over their 1 s target; crisis calls with two over 200 ms (one a resources read, which is a
 * crisis call but not an apply), and a breach note that is not a call.
 */
async function dayOfLatencies(day: string) {
  await jobs.writeAuditDay(day, [
    [...applies(7, Array.from({ length: 40 }, (_, i) => 100 + i), 0), crisis("crisis.activate", 50, "13:00:00"), crisis("crisis.activate", 250, "14:00:00")],
    [...applies(6, [...Array.from({ length: 18 }, () => 400), 1_500, 2_500], 200), crisis("crisis.resources", 400, "09:00:00"),
      crisis("crisis.slo_breach", 250, "14:00:01"), crisis("crisis.activate", 120, "15:00:00"), crisis("crisis.op", 60, "16:00:00", 9),
      { actor: "device", action: "sync.push", outcome: "ok", latencyMs: 5_000, at: "17:00:00" }],
  ]);
}

const row = (report: any, priority: number) => report.priorities.find((p: any) => p.priority === priority);
/** Percentiles come from a sketch: within 1 % of the exact value. */
const withinOnePercent = (actual: number, exact: number) => Math.abs(actual - exact) <= exact * 0.01 + 0.05;

describe("daily SLO report job", () => {
  it("reports the day before's apply latency per priority against its target, and every crisis breach", async () => {
    // Prepare
    const day = jobs.uniqueDay();
    await dayOfLatencies(day);

    // Act
    const outcome = await handler(runAfter(day), lambdaContext());

    // Assess
    expect(outcome).toMatchObject({ status: "completed", day });
    const report = outcome.report!;
    expect(await readSloReport(day)).toEqual(report);
    expect(row(report, 7)).toMatchObject({ targetMs: 500, count: 40, max: 139, overTarget: 0, met: true });
    expect(withinOnePercent(row(report, 7).p95, 137)).toBe(true);
    expect(row(report, 6)).toMatchObject({ targetMs: 1_000, count: 20, max: 2_500, overTarget: 2, met: false });
    expect(withinOnePercent(row(report, 6).p50, 400)).toBe(true);
    expect(row(report, 10)).toMatchObject({ targetMs: 200, count: 3, overTarget: 1, met: false });
    expect(row(report, 9)).toMatchObject({ count: 1, overTarget: 0, met: true });
    expect(row(report, 8)).toMatchObject({ count: 0, met: null });
    expect(report.missed).toEqual([10, 6]);
    expect(report.crisis.calls.count).toBe(5);
    expect(report.crisis.breachCount).toBe(2);
    expect(report.crisis.breaches.map((b) => [b.time, b.action, b.latencyMs])).toEqual([
      [`${day}T09:00:00.000Z`, "crisis.resources", 400],
      [`${day}T14:00:00.000Z`, "crisis.activate", 250],
    ]);
    expect(await jobs.auditItem(jobRunKey("slo-report", day))).toMatchObject({ outcome: "missed", prioritiesMissed: 2, crisisBreaches: 2, crisisCalls: 5 });
  });

  it("a day without traffic gets a report with nothing missed", async () => {
    // Prepare
    const day = jobs.uniqueDay();

    // Act
    const outcome = await handler(runAfter(day), lambdaContext());

    // Assess
    expect(outcome).toMatchObject({ status: "completed", day, report: { missed: [], crisis: { breachCount: 0, calls: { count: 0 } } } });
    expect(outcome.report!.priorities.every((p) => p.count === 0 && p.met === null)).toBe(true);
  });

  it("running it twice, or twice at once, changes nothing more", async () => {
    // Prepare
    const day = jobs.uniqueDay();
    await dayOfLatencies(day);

    // Act
    const together = await Promise.all([handler(runAfter(day), lambdaContext()), handler(runAfter(day), lambdaContext())]);
    const stored = await readSloReport(day);
    const again = await handler(runAfter(day), lambdaContext());

    // Assess
    expect(together.map((o) => o.status).sort()).toEqual(["completed", expect.stringMatching(/^(already_completed|lease_held)$/)]);
    expect(again).toMatchObject({ status: "already_completed", day });
    expect(await readSloReport(day)).toEqual(stored);
  });

  it("a report interrupted mid-way resumes and comes out as if it had never stopped", async () => {
    // Prepare: the same traffic on two days; one report runs straight through, the other in stops
    const [straight, interrupted] = [jobs.uniqueDay(), jobs.uniqueDay()];
    await dayOfLatencies(straight);
    await dayOfLatencies(interrupted);
    const run = (day: string, pages: number) => runSloReport({ day, now: new Date(), sliceEntries: 7, remainingMs: lambdaContext(pages).getRemainingTimeInMillis });

    // Act
    const expected = await run(straight, 1_000);
    const stops = [await run(interrupted, 3), await run(interrupted, 5)];
    const resumed = await run(interrupted, 1_000);

    // Assess
    expect(stops.map((o) => o.status)).toEqual(["paused", "paused"]);
    expect(resumed.status).toBe("completed");
    expect(resumed.status === "completed" && expected.status === "completed" && expected.pages - resumed.pages).toBe(3 + 5);
    const { day: _a, generatedAt: _b, crisis: c1, ...rest1 } = resumed.report!;
    const { day: _c, generatedAt: _d, crisis: c2, ...rest2 } = expected.report!;
    expect(rest1).toEqual(rest2);
    expect({ ...c1, breaches: c1.breaches.map((b) => b.latencyMs) }).toEqual({ ...c2, breaches: c2.breaches.map((b) => b.latencyMs) });
  });
});
