/**
 * The reads behind the operators' dashboard, with the SDK only (so the same code could run as a
 * function in AWS): lane and DLQ attributes from SQS, payment tiers from the Payments table,
 * the window's audit entries (crisis calls, applies, webhooks) and the chain status. The
 * aggregation itself is pure (`@paysync/core/ops/summary`). In AWS the same numbers are
 * CloudWatch metrics (docs/OPERATIONS.md): `CrisisLatency`, `ApplyLatency`, `WebhookApplyLatency`
 * from Powertools EMF, and the SQS metrics `ApproximateNumberOfMessagesVisible` and
 * `ApproximateAgeOfOldestMessage`.
 *
 * @example
 * const reader = new OpsSummaryReader({ audit });
 * const summary = await reader.read({ windowMinutes: 60 });
 */
import { GetQueueAttributesCommand, type QueueAttributeName } from "@aws-sdk/client-sqs";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { buildOpsSummary, type LaneInput, type PaymentRow } from "@paysync/core/ops/summary";
import type { OpsSummary, QueueStat } from "@paysync/core/ops/summary-schema";
import { documentClient, sqsClient } from "../base/clients.js";
import { config } from "../base/config.js";
import { CRISIS_CAPACITY, LANES, type LaneId } from "../resources.js";
import type { AuditLog } from "../store/audit-log.js";
import { PAYMENT_STATE_SORT_KEY } from "../store/keys.js";
import { AuditWindow, MAX_WINDOW_MS } from "./audit-window.js";

/**
 * Where the age of a queue's oldest message comes from: SQS's API has no such attribute (it is
 * the CloudWatch metric `ApproximateAgeOfOldestMessage`), so it is injected — the local runtime
 * asks its emulator. Without one, ages are `null`.
 */
export interface QueueAgeSource {
  oldestAgeSeconds(queueUrl: string): Promise<number | null>;
}

export interface OpsReaderOptions {
  /** The audit trail, read for the window's entries and chain status. */
  audit: AuditLog;
  ageSource?: QueueAgeSource;
  /** Payment-state items read at most per summary; past it the user counts are a lower bound. */
  maxPaymentItems?: number;
  now?: () => Date;
}

export const DEFAULT_WINDOW_MINUTES = 60;
const ATTRIBUTES: QueueAttributeName[] = [
  "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
];

export class OpsSummaryReader {
  private readonly audit: AuditWindow;
  private readonly now: () => Date;

  constructor(private readonly options: OpsReaderOptions) {
    this.audit = new AuditWindow(options.audit);
    this.now = options.now ?? (() => new Date());
  }

  async read(request: { windowMinutes?: number } = {}): Promise<OpsSummary> {
    const now = this.now();
    const windowMinutes = clampWindow(request.windowMinutes ?? DEFAULT_WINDOW_MINUTES);
    const from = new Date(now.getTime() - windowMinutes * 60_000);
    const [lanes, payments, audit] = await Promise.all([
      this.lanes(),
      this.payments(),
      this.audit.read(from, new Date(now.getTime() + 1)),
    ]);
    return buildOpsSummary({
      now, windowMinutes, lanes, payments, entries: audit.entries, audit: audit.status, crisisTargetMs: CRISIS_CAPACITY.latencyTargetMs,
    });
  }

  private lanes(): Promise<LaneInput[]> {
    return Promise.all((Object.keys(LANES) as LaneId[]).map(async (lane) => {
      const [queue, dlq] = await Promise.all([this.queueStat(config.queue(lane)), this.queueStat(config.deadLetterQueue(lane))]);
      return { lane, queue, dlq, depthAlarmThreshold: LANES[lane].depthAlarmThreshold, dlqAlarmThreshold: LANES[lane].dlqAlarmThreshold };
    }));
  }

  private async queueStat(url: string): Promise<QueueStat> {
    const [{ Attributes = {} }, oldestAgeSeconds] = await Promise.all([
      sqsClient().send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ATTRIBUTES })),
      this.options.ageSource?.oldestAgeSeconds(url).catch(() => null) ?? Promise.resolve(null),
    ]);
    const n = (name: string) => Number(Attributes[name as QueueAttributeName] ?? 0) || 0;
    return {
      visible: n("ApproximateNumberOfMessages"),
      inFlight: n("ApproximateNumberOfMessagesNotVisible"),
      delayed: n("ApproximateNumberOfMessagesDelayed"),
      oldestAgeSeconds,
    };
  }

  /** Every user's tier and grace end (projection only: no state, no ids beyond the key). */
  private async payments(): Promise<{ rows: PaymentRow[]; truncated: boolean }> {
    const max = this.options.maxPaymentItems ?? 50_000;
    const rows: PaymentRow[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documentClient().send(new ScanCommand({
        TableName: config.table("Payments"),
        FilterExpression: "sk = :state",
        ProjectionExpression: "#tier, #grace",
        ExpressionAttributeNames: { "#tier": "tier", "#grace": "graceEndsAt" },
        ExpressionAttributeValues: { ":state": PAYMENT_STATE_SORT_KEY },
        ExclusiveStartKey: startKey,
      }));
      for (const item of page.Items ?? []) {
        if (typeof item.tier === "string") rows.push({ tier: item.tier, graceEndsAt: typeof item.graceEndsAt === "number" ? item.graceEndsAt : null });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && rows.length < max);
    return { rows, truncated: startKey !== undefined };
  }
}

export function clampWindow(minutes: number): number {
  if (!Number.isFinite(minutes)) return DEFAULT_WINDOW_MINUTES;
  return Math.min(MAX_WINDOW_MS / 60_000, Math.max(1, Math.round(minutes)));
}
