/**
 * The pure half of `POST /v1/sync/push` (SPEC.md sections 1, 2 and 4): classify every op,
 * compute its effective priority and lane, size it, clamp its clock, and turn the limit
 * outcomes into per-op results and one HTTP answer. Storage and queues live in
 * `packages/aws`; nothing here does I/O.
 *
 * @example
 * const plan = planPush(ops, { tier: "basic", inCrisisMode: false, inActiveSession: false, receivedAtMs: Date.now() });
 * plan.ops[0]; // { priority: 4, lane: "standard", exempt: false, bytes: 87, … }
 * const answer = pushAnswer(results); // { status: 200 } or { status: 429, limit, retryAfterSeconds }
 */
import type { SyncOp, SyncOpResult } from "../api/sync.js";
import { CrisisStatePushSchema } from "../crisis/state.js";
import { CRISIS_PAYLOAD_SCHEMAS } from "../crisis/resources.js";
import { PayloadTooLargeError, ValidationError, type LimitExceededError, type LimitName } from "../errors.js";
import type { Tier } from "../tiers.js";
import { clampClientTime } from "./conflicts.js";
import type { Priority } from "./entities.js";
import { checkOpPayloadSize, isLimitExempt, jsonByteLength } from "./limits.js";
import { classifyOp, effectivePriority, laneFor, type Lane } from "./priority.js";

export interface PushContext {
  tier: Tier;
  /** Any of the user's devices is in crisis mode (premium escalation). */
  inCrisisMode: boolean;
  /** Any of the user's devices is in an active therapeutic session (premium escalation). */
  inActiveSession: boolean;
  receivedAtMs: number;
}

export interface PlannedOp {
  /** Position in the request; results are answered in request order. */
  index: number;
  op: SyncOp;
  classPriority: Priority;
  priority: Priority;
  lane: Lane;
  /** Priority >= 8: never limited, never charged, never counted as pending. */
  exempt: boolean;
  /** JSON size of the whole op, what limits charge. */
  bytes: number;
  /** `clientTime` capped at receive time + the allowed skew. */
  clientTime: string;
  /** The same opId appeared earlier in this request: answered `duplicate`, not sent anywhere. */
  repeatOf: number | null;
}

export interface PushPlan {
  ops: PlannedOp[];
  /** Bytes of the non-exempt ops (duplicates within the request included: they travelled). */
  chargedBytes: number;
}

/**
 * Refuses the whole request when one payload is over 256 KiB (413, for every priority): the
 * device must shrink that op. Nothing of such a request is applied.
 */
export function assertPayloadSizes(ops: readonly SyncOp[]): void {
  const tooLarge = ops.flatMap((op) => {
    const check = checkOpPayloadSize(op.payload ?? null);
    return check.ok ? [] : [{ opId: op.opId, ...(check.error.details as { bytes: number; maxBytes: number }) }];
  });
  if (tooLarge.length === 0) return;
  throw new PayloadTooLargeError(`${tooLarge.length} op payload(s) exceed ${tooLarge[0]?.maxBytes} bytes`, { ops: tooLarge });
}

/**
 * Crisis-class payloads are validated before anything of the push is applied, so a malformed
 * safety plan makes the whole request a 400 instead of half-applying it.
 */
export function assertCrisisPayloads(plan: readonly PlannedOp[]): void {
  const issues = plan.flatMap(({ op, lane, index }) => {
    if (lane !== "crisis" || op.action === "delete") return [];
    const schema = op.entityType === "crisis_state" ? CrisisStatePushSchema
      : op.entityType === "safety_plan" ? CRISIS_PAYLOAD_SCHEMAS.safety_plan
      : op.entityType === "emergency_contacts" ? CRISIS_PAYLOAD_SCHEMAS.emergency_contacts
      : undefined;
    const result = schema?.safeParse(op.payload);
    if (!result || result.success) return [];
    return result.error.issues.map((issue) => ({
      path: ["ops", String(index), "payload", ...issue.path.map(String)], code: issue.code, message: issue.message,
    }));
  });
  if (issues.length > 0) throw new ValidationError("Invalid crisis payload", issues);
}

/** Classifies, prioritises and sizes every op of a validated request. */
export function planPush(ops: readonly SyncOp[], context: PushContext): PushPlan {
  const firstIndex = new Map<string, number>();
  let chargedBytes = 0;
  const planned = ops.map((op, index): PlannedOp => {
    // A delete's payload (optional, any JSON) is never applied, so there is nothing to score.
    const classPriority = classifyOp(op.entityType, op.action === "upsert" ? op.payload : undefined);
    const priority = effectivePriority({
      classPriority, tier: context.tier, inCrisisMode: context.inCrisisMode, inActiveSession: context.inActiveSession,
    });
    const bytes = jsonByteLength(op);
    const exempt = isLimitExempt(priority);
    if (!exempt) chargedBytes += bytes;
    const seen = firstIndex.get(op.opId);
    if (seen === undefined) firstIndex.set(op.opId, index);
    return {
      index, op, classPriority, priority, lane: laneFor(priority), exempt, bytes,
      clientTime: clampClientTime(op.clientTime, context.receivedAtMs), repeatOf: seen ?? null,
    };
  });
  return { ops: planned, chargedBytes };
}

/** Machine-readable reason of an op refused by a tier limit. */
export const limitReason = (limit: LimitName): string => `limit_exceeded:${limit}`;

export function rejectedResult(op: PlannedOp, error: LimitExceededError): SyncOpResult {
  return { opId: op.op.opId, status: "rejected", priority: op.priority, lane: op.lane, reason: limitReason(error.limit) };
}

export type PushAnswer =
  | { status: 200; retryAfterSeconds?: number }
  | { status: 429; limit: LimitName; retryAfterSeconds: number; message: string };

/**
 * The HTTP answer of a push: 200 with per-op results when at least one op was taken
 * (applied, queued or a duplicate), with `Retry-After` when some ops were refused by a
 * limit; 429 for the whole request when every op was refused by a limit, naming the limit
 * that refused the first op.
 */
export function pushAnswer(results: readonly SyncOpResult[], refusals: ReadonlyMap<string, LimitExceededError>): PushAnswer {
  const refused = results.filter((r) => r.status === "rejected" && refusals.has(r.opId));
  const retryAfterSeconds = refused.reduce((max, r) => Math.max(max, refusals.get(r.opId)?.retryAfterSeconds ?? 0), 0);
  if (refused.length === 0) return { status: 200 };
  if (refused.length < results.length) return { status: 200, retryAfterSeconds: Math.max(1, retryAfterSeconds) };
  const first = refusals.get(refused[0]?.opId ?? "");
  return {
    status: 429,
    limit: first?.limit ?? "concurrency",
    retryAfterSeconds: Math.max(1, retryAfterSeconds),
    message: first?.message ?? "A limit of your plan was reached",
  };
}

/** Keeps the first `LimitExceededError` refusal per op. */
export function refuse(refusals: Map<string, LimitExceededError>, ops: readonly PlannedOp[], error: LimitExceededError): void {
  for (const op of ops) if (!refusals.has(op.op.opId)) refusals.set(op.op.opId, error);
}
