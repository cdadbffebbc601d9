/**
 * Conflict resolution (SPEC.md section 4). An op whose `baseVersion` is not the entity's current
 * version conflicts. `automatic`: last writer wins by `(clientTime, device priority, deviceId)`,
 * the loser kept in history; `manual`: both kept and the conflict listed. Crisis entities never
 * lose a write.
 *
 * @example
 * const resolution = resolveWrite({ current, op, strategy: policyFor(tier).conflictResolution, entityType });
 * if (resolution.decision === "manual_conflict") listConflict(current, op);
 */
import type { ConflictStrategy } from "../tiers.js";
import { isCrisisEntity, type EntityType } from "./entities.js";

/** A device counts as recently active when seen within this window. */
export const RECENT_ACTIVITY_WINDOW_MS = 10 * 60 * 1000;

/** How long a device counts as in an active therapeutic session after a session is handed off to it. */
export const ACTIVE_SESSION_WINDOW_MS = 2 * 60 * 60 * 1000;

/** How far ahead of the server clock a device's `clientTime` is believed (see `clampClientTime`). */
export const MAX_CLIENT_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface DeviceState {
  activeSession: boolean;
  crisisMode: boolean;
  lastSeenAtMs: number;
  primary: boolean;
}

// One bit per criterion, most significant first: comparing the numbers compares the criteria
// lexicographically (an active session beats crisis mode + recent + primary together).
const ACTIVE_SESSION = 0b1000;
const CRISIS_MODE = 0b0100;
const RECENT_ACTIVITY = 0b0010;
const PRIMARY = 0b0001;

/**
 * Device priority as a number in `[0, 15]`, higher wins: active session > crisis mode >
 * recent activity (seen within {@link RECENT_ACTIVITY_WINDOW_MS}) > primary device.
 */
export function devicePriority(device: DeviceState, nowMs: number): number {
  return (
    (device.activeSession ? ACTIVE_SESSION : 0) |
    (device.crisisMode ? CRISIS_MODE : 0) |
    (nowMs - device.lastSeenAtMs <= RECENT_ACTIVITY_WINDOW_MS ? RECENT_ACTIVITY : 0) |
    (device.primary ? PRIMARY : 0)
  );
}

export interface Writer {
  /** ISO 8601 with offset, as sent by the device (after `clampClientTime`). */
  clientTime: string;
  devicePriority: number;
  deviceId: string;
}

function timeOf(clientTime: string): number {
  const ms = Date.parse(clientTime);
  // An unparseable time (never valid on the wire) loses rather than wins.
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/**
 * Orders two writes for last-writer-wins: positive when `a` wins, negative when `b` wins, 0 only
 * for the same device at the same instant. Times compare as instants, so offsets do not matter;
 * device ids compare by code unit, never by locale, so every node decides the same way.
 */
export function compareWriters(a: Writer, b: Writer): number {
  const byTime = timeOf(a.clientTime) - timeOf(b.clientTime);
  if (byTime !== 0) return Math.sign(byTime);
  if (a.devicePriority !== b.devicePriority) return Math.sign(a.devicePriority - b.devicePriority);
  if (a.deviceId === b.deviceId) return 0;
  return a.deviceId > b.deviceId ? 1 : -1;
}

/**
 * Caps a device's `clientTime` at the server's receive time plus {@link MAX_CLIENT_CLOCK_SKEW_MS},
 * so a device with a clock set in the future cannot win every last-writer-wins forever.
 */
export function clampClientTime(clientTime: string, receivedAtMs: number, maxSkewMs = MAX_CLIENT_CLOCK_SKEW_MS): string {
  const latest = receivedAtMs + maxSkewMs;
  return timeOf(clientTime) > latest ? new Date(latest).toISOString() : clientTime;
}

export interface CurrentVersion extends Writer {
  version: number;
}

export interface IncomingWrite extends Writer {
  baseVersion: number;
}

export interface ResolveWriteInput {
  /** The entity's current version; `undefined` when it does not exist yet. */
  current: CurrentVersion | undefined;
  op: IncomingWrite;
  strategy: ConflictStrategy;
  entityType: EntityType;
}

/**
 * - `apply`: no conflict; the op becomes the next version.
 * - `apply_lww_winner`: conflict, automatic, the op wins; the current version goes to history.
 * - `keep_current_lww_loser`: conflict, automatic, the op loses; it is kept in history only.
 * - `manual_conflict`: conflict, manual; nothing applied, both kept, the conflict listed.
 * - `apply_crisis`: conflict on a crisis entity; applied whatever the strategy, the current
 *   version goes to history.
 */
export type WriteDecision = "apply" | "apply_lww_winner" | "keep_current_lww_loser" | "manual_conflict" | "apply_crisis";

export interface WriteResolution {
  decision: WriteDecision;
  conflict: boolean;
  /** Which side is written to the entity's history: the superseded current version or the losing op. */
  toHistory: "current" | "op" | null;
}

/** Decides what an incoming op does to an entity; pure, so a worker can retry it safely. */
export function resolveWrite(input: ResolveWriteInput): WriteResolution {
  const { current, op, strategy, entityType } = input;
  // With no current version there is nothing the op could overwrite by mistake.
  if (current === undefined) return { decision: "apply", conflict: false, toHistory: null };
  if (op.baseVersion === current.version) return { decision: "apply", conflict: false, toHistory: null };
  // A safety plan written during a crisis must not be lost to a stale edit or a manual queue.
  if (isCrisisEntity(entityType)) return { decision: "apply_crisis", conflict: true, toHistory: "current" };
  if (strategy === "manual") return { decision: "manual_conflict", conflict: true, toHistory: null };
  // Equal writers (same device, same instant): the later arrival wins.
  return compareWriters(op, current) >= 0
    ? { decision: "apply_lww_winner", conflict: true, toHistory: "current" }
    : { decision: "keep_current_lww_loser", conflict: true, toHistory: "op" };
}
