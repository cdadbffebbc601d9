/**
 * The wire shape of `GET /ops/api/summary`: what the operators' dashboard shows. Only counts,
 * latencies, codes and pseudonymous references (audit `chain/seq`) — never a user id, a key
 * or a payload. Built by `buildOpsSummary` (pure) from reads made in `@paysync/aws/ops`.
 *
 * @example
 * const summary = OpsSummarySchema.parse(await (await fetch("/ops/api/summary")).json());
 * summary.crisis.activations;
 */
import { z } from "zod";
import { TIERS } from "../tiers.js";

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();

export const QueueStatSchema = z.object({
  /** Messages ready to receive (`ApproximateNumberOfMessages`). */
  visible: count,
  /** Received, not yet deleted (`ApproximateNumberOfMessagesNotVisible`). */
  inFlight: count,
  delayed: count,
  /** Age of the oldest message in seconds (`ApproximateAgeOfOldestMessage`); `null` when empty or unknown. */
  oldestAgeSeconds: z.number().nonnegative().nullable(),
});
export type QueueStat = z.infer<typeof QueueStatSchema>;

export const LaneSummarySchema = z.object({
  lane: z.string(),
  queue: QueueStatSchema,
  dlq: QueueStatSchema,
  depthAlarmThreshold: count,
  dlqAlarmThreshold: count,
  /** `backlog`: depth at its alarm threshold; `dead_letters`: the DLQ at its threshold (worse). */
  status: z.enum(["ok", "backlog", "dead_letters"]),
});
export type LaneSummary = z.infer<typeof LaneSummarySchema>;

export const LatencyStatsSchema = z.object({
  count,
  p50: ms.nullable(),
  p95: ms.nullable(),
  p99: ms.nullable(),
  max: ms.nullable(),
});
export type LatencyStats = z.infer<typeof LatencyStatsSchema>;

export const HistogramBucketSchema = z.object({
  label: z.string(),
  fromMs: ms,
  /** Exclusive; `null` for the open last bucket. */
  toMs: ms.nullable(),
  count,
});

export const CrisisSummarySchema = z.object({
  targetMs: ms,
  /** Crisis calls measured in the window (every `crisis.<route>` entry with a latency). */
  calls: count,
  activations: count,
  resolves: count,
  latency: LatencyStatsSchema,
  histogram: z.array(HistogramBucketSchema),
  breaches: count,
  recentBreaches: z.array(z.object({ time: z.string(), action: z.string(), latencyMs: ms, outcome: z.string(), entry: z.string() })),
});
export type CrisisSummary = z.infer<typeof CrisisSummarySchema>;

export const ApplyRowSchema = z.object({
  priority: z.number().int().min(1).max(10),
  name: z.string(),
  targetMs: ms.nullable(),
  latency: LatencyStatsSchema,
  breaches: count,
  /** `idle`: nothing applied in the window; `breach`: p95 over the target. */
  status: z.enum(["ok", "breach", "idle"]),
});
export type ApplyRow = z.infer<typeof ApplyRowSchema>;

export const UsersSummarySchema = z.object({
  /** Users with a payment state; users who never paid have none and count as free elsewhere. */
  withPaymentState: count,
  byTier: z.record(z.enum(TIERS), count),
  inGrace: count,
  graceEndingWithin24h: count,
  /** The read stopped at its cap: the numbers are a lower bound. */
  truncated: z.boolean(),
});
export type UsersSummary = z.infer<typeof UsersSummarySchema>;

export const WebhooksSummarySchema = z.object({
  /** Stripe events applied by the webhook worker in the window. */
  processed: count,
  byType: z.array(z.object({ type: z.string(), count, outcomes: z.record(z.string(), count) })),
  /** What the intake answered (`received`, `duplicate`, `rejected_<reason>`). */
  intake: z.record(z.string(), count),
  recent: z.array(z.object({ time: z.string(), type: z.string(), outcome: z.string(), latencyMs: ms.nullable() })),
});
export type WebhooksSummary = z.infer<typeof WebhooksSummarySchema>;

export const AuditStatusSchema = z.object({
  intact: z.boolean(),
  /** The days whose chains were verified (those the window touches). */
  days: z.array(z.string()),
  chains: count,
  entries: count,
  broken: z.array(z.object({ chain: z.string(), brokenAt: count, reason: z.string() })),
});
export type AuditStatus = z.infer<typeof AuditStatusSchema>;

export const OpsSummarySchema = z.object({
  generatedAt: z.string(),
  window: z.object({ from: z.string(), to: z.string(), minutes: z.number().int().positive() }),
  lanes: z.array(LaneSummarySchema),
  crisis: CrisisSummarySchema,
  apply: z.array(ApplyRowSchema),
  users: UsersSummarySchema,
  webhooks: WebhooksSummarySchema,
  audit: AuditStatusSchema,
});
export type OpsSummary = z.infer<typeof OpsSummarySchema>;
