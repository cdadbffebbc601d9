/**
 * The pure rules of bootstrap and of the pull interval (SPEC.md §4.1; issue 17 point 8).
 *
 * @example
 * visibleInSnapshot(entity, "tablet", policy.crossDeviceSync); // what a snapshot may carry
 * pullIntervalCheck({ nowMs, minIntervalMs, last, cursorSeq, pokedAtMs, urgentSeq });
 */
import { LimitExceededError } from "../errors.js";
import { isCrisisEntity, isServerOriginated } from "./entities.js";

/** The origin of a server-originated entity (payment state, flags, policy, directory). */
export const SERVER_ORIGIN = "server";

/** Crisis-level changes travel to every device whatever the tier (crisis entities and assessments over the thresholds). */
export const CRISIS_PRIORITY = 9;

/** A change waiting at or above this priority lets a pull through before the tier's interval. */
export const URGENT_PULL_PRIORITY = 7;

/** What a snapshot decision needs of a stored entity. */
export interface SnapshotCandidate {
  entityType: string;
  action: "upsert" | "delete";
  originDeviceId: string;
  priority: number;
}

/**
 * Whether a device's snapshot carries this entity: never a tombstone; with cross-device sync
 * every live entity of the user; without it (trial, free) only server-originated entities,
 * crisis entities and the device's own — the same rule the feed applies to changes.
 */
export function visibleInSnapshot(entity: SnapshotCandidate, deviceId: string, crossDeviceSync: boolean): boolean {
  if (entity.action === "delete") return false;
  if (crossDeviceSync) return true;
  return entity.originDeviceId === deviceId
    || entity.originDeviceId === SERVER_ORIGIN
    || isServerOriginated(entity.entityType)
    || isCrisisEntity(entity.entityType)
    || entity.priority >= CRISIS_PRIORITY;
}

/** The device's previous served pull, as recorded with the device. */
export interface LastPull {
  atMs: number;
  /** The feed seq its cursor pointed to (-1 for a snapshot page). */
  seq: number;
  hasMore: boolean;
}

export interface PullIntervalInput {
  nowMs: number;
  minIntervalMs: number;
  last: LastPull | null;
  /** The feed seq this pull starts after. */
  cursorSeq: number;
  /** When the device was last poked (0: never). */
  pokedAtMs: number;
  /** Seq of the newest change of priority >= {@link URGENT_PULL_PRIORITY} in the device's feed. */
  urgentSeq: number;
}

/**
 * A feed pull sooner than the tier's interval is refused (`429 pull_interval`, `Retry-After`
 * until the interval has passed) unless it continues a page that said `hasMore`, the device
 * was poked since its last pull, or an urgent change (crisis, session, payment, policy) waits
 * after the cursor. Snapshot pages never come here.
 */
export function pullIntervalCheck(input: PullIntervalInput): { ok: true } | { ok: false; error: LimitExceededError } {
  const { last } = input;
  if (last === null) return { ok: true };
  const readyAtMs = last.atMs + input.minIntervalMs;
  if (input.nowMs >= readyAtMs) return { ok: true };
  if (last.hasMore && input.cursorSeq === last.seq) return { ok: true };
  if (input.pokedAtMs > last.atMs) return { ok: true };
  if (input.urgentSeq > input.cursorSeq) return { ok: true };
  const retryAfterSeconds = Math.max(1, Math.ceil((readyAtMs - input.nowMs) / 1000));
  return {
    ok: false,
    error: new LimitExceededError("pull_interval", retryAfterSeconds, `Your plan pulls at most every ${input.minIntervalMs / 1000} s; pull again after Retry-After`),
  };
}
