import { describe, expect, it } from "vitest";
import type { AuditEntry, AuditRecord } from "@paysync/core/audit/chain";
import { buildOpsSummary, laneSummary, type LaneInput, type OpsInput } from "@paysync/core/ops/summary";
import { OpsSummarySchema } from "@paysync/core/ops/summary-schema";

const NOW = new Date("2026-03-01T12:00:00.000Z");
let seq = 0;
function entry(record: AuditRecord, minutesAgo = 1): AuditEntry {
  seq += 1;
  return { ...record, time: new Date(NOW.getTime() - minutesAgo * 60_000).toISOString(), chain: "2026-03-01.c0ffee", seq, prevHash: "0", hash: `h${seq}` };
}
const crisisCall = (route: string, latencyMs: number, outcome = "ok") => entry({ actor: "device", action: `crisis.${route}`, outcome, latencyMs, priority: 10 });
const apply = (priority: number, latencyMs: number, outcome = "applied") => entry({ actor: "device", action: "sync.apply", priority, outcome, latencyMs });
const idle = { visible: 0, inFlight: 0, delayed: 0, oldestAgeSeconds: null };

function input(overrides: Partial<OpsInput> = {}): OpsInput {
  return {
    now: NOW, windowMinutes: 60, lanes: [], entries: [], payments: { rows: [], truncated: false },
    audit: { intact: true, days: ["2026-03-01"], chains: 1, entries: 0, broken: [] }, crisisTargetMs: 200, ...overrides,
  };
}

describe("the ops summary", () => {
  it("counts crisis activations and puts every crisis call in a latency bucket, breaches past the target", () => {
    // Prepare
    const entries = [
      crisisCall("activate", 12), crisisCall("activate", 80), crisisCall("activate", 90, "validation_error"),
      crisisCall("resolve", 150), crisisCall("resources", 240), crisisCall("op", 700),
      entry({ actor: "device", action: "crisis.slo_breach", outcome: "ok", latencyMs: 240 }),
    ];

    // Act
    const { crisis } = buildOpsSummary(input({ entries }));

    // Assess
    expect(crisis.activations).toBe(2);
    expect(crisis.resolves).toBe(1);
    expect(crisis.calls).toBe(6);
    expect(crisis.histogram.map((b) => b.count)).toEqual([1, 0, 2, 0, 1, 1, 1]);
    expect(crisis.breaches).toBe(2);
    expect(crisis.recentBreaches.map((b) => b.action).sort()).toEqual(["crisis.op", "crisis.resources"]);
  });

  it.each([
    ["no applies", [], "idle"],
    ["applies within the target", [apply(6, 300), apply(6, 900)], "ok"],
    ["a p95 over the target", [apply(6, 300), apply(6, 1_500)], "breach"],
    ["duplicates only (not applies)", [apply(6, 5_000, "duplicate")], "idle"],
  ] as const)("marks priority 6 %s as %s", (_name, entries, status) => {
    // Act
    const row = buildOpsSummary(input({ entries: [...entries] })).apply.find((r) => r.priority === 6);

    // Assess
    expect(row?.status).toBe(status);
    expect(row?.targetMs).toBe(1_000);
  });

  it("measures priorities 9–10 from the synchronous crisis writes, not from the resources read", () => {
    // Act
    const rows = buildOpsSummary(input({ entries: [crisisCall("activate", 40), crisisCall("resources", 900)] })).apply;

    // Assess
    expect(rows.find((r) => r.priority === 10)?.latency).toMatchObject({ count: 1, max: 40 });
    expect(rows.map((r) => r.priority)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it.each([
    ["an empty lane", { queue: idle, dlq: idle }, "ok"],
    ["a lane at its depth alarm", { queue: { ...idle, visible: 60, delayed: 40 }, dlq: idle }, "backlog"],
    ["a dead letter, whatever the depth", { queue: { ...idle, visible: 500 }, dlq: { ...idle, visible: 1 } }, "dead_letters"],
  ] as const)("rates %s as %s", (_name, stats, status) => {
    // Prepare
    const lane: LaneInput = { lane: "Realtime", depthAlarmThreshold: 100, dlqAlarmThreshold: 1, ...stats };

    // Act / Assess
    expect(laneSummary(lane).status).toBe(status);
  });

  it("counts users by tier and those whose grace ends within a day", () => {
    // Prepare
    const rows = [
      { tier: "premium" }, { tier: "premium" }, { tier: "basic" }, { tier: "unknown_tier" },
      { tier: "grace_period", graceEndsAt: NOW.getTime() + 3_600_000 },
      { tier: "grace_period", graceEndsAt: NOW.getTime() + 5 * 86_400_000 },
    ];

    // Act
    const { users } = buildOpsSummary(input({ payments: { rows, truncated: true } }));

    // Assess
    expect(users.byTier).toEqual({ trial: 0, basic: 1, premium: 2, grace_period: 2, free: 0 });
    expect(users).toMatchObject({ inGrace: 2, graceEndingWithin24h: 1, truncated: true });
  });

  it("groups Stripe events by type and outcome apart from the intake's answers", () => {
    // Prepare
    const stripe = (action: string, outcome: string) => entry({ actor: "stripe", action, outcome, latencyMs: 20 });
    const entries = [
      stripe("stripe.webhook", "enqueued"), stripe("stripe.webhook", "rejected_bad_signature"),
      stripe("stripe.invoice.payment_failed", "applied"), stripe("stripe.invoice.payment_failed", "stale"),
      stripe("stripe.checkout.session.completed", "linked"),
    ];

    // Act
    const { webhooks } = buildOpsSummary(input({ entries }));

    // Assess
    expect(webhooks.intake).toEqual({ enqueued: 1, rejected_bad_signature: 1 });
    expect(webhooks.processed).toBe(3);
    expect(webhooks.byType[0]).toEqual({ type: "invoice.payment_failed", count: 2, outcomes: { applied: 1, stale: 1 } });
  });

  it("is a valid wire shape, with the window it covers", () => {
    // Act
    const summary = buildOpsSummary(input({ entries: [crisisCall("activate", 10), apply(4, 100)] }));

    // Assess
    expect(() => OpsSummarySchema.parse(summary)).not.toThrow();
    expect(summary.window).toEqual({ from: "2026-03-01T11:00:00.000Z", to: NOW.toISOString(), minutes: 60 });
  });
});
