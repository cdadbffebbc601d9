/**
 * The shapes an app sees: entities, queued and failed ops, change events.
 */
import type { SyncAction } from "@paysync/core/api";
import type { SyncErrorInfo } from "./errors.js";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An entity as the app reads it: the server's latest version with the device's pending writes on top. */
export interface Entity {
  entityType: string;
  entityId: string;
  /** The version this device holds (a pending write shows the version it will become). */
  version: number;
  payload: JsonValue;
  /** True while a local write of it has not reached the server. */
  pending: boolean;
  /** Who wrote what the app sees: this device, or the server (another device, or the service). */
  origin: "local" | "server";
  /** Client time (ms) of the last change. */
  updatedAt: number;
}

/** An op in the durable queue. `opId` is fixed when the app makes the change and never changes. */
export interface QueuedOp {
  /** Order of creation on this device; ops of one entity are sent in this order. */
  seq: number;
  opId: string;
  entityType: string;
  entityId: string;
  action: SyncAction;
  baseVersion: number;
  payload?: JsonValue;
  clientTime: string;
  /** Class priority as the client sees it (the server decides the real one). */
  priority: number;
  /** JSON size of the op as sent. */
  bytes: number;
  createdAt: number;
}

/** An op the server will never take as it is (413, or a validation error): out of the queue. */
export interface FailedOp extends QueuedOp {
  failedAt: number;
  error: SyncErrorInfo;
}

export type ChangeSource =
  /** The app wrote it on this device. */
  | "local"
  /** A local write reached the server (no longer pending). */
  | "synced"
  /** Pulled: another device or the server changed it. */
  | "remote"
  /** Part of a bootstrap snapshot (first sync, or a rebuild). */
  | "snapshot"
  /** A rebuild removed it: the server no longer has it. */
  | "resync"
  /** A local write was refused or conflicted: the app sees the server's version again. */
  | "revert";

export interface ChangeEvent {
  entityType: string;
  entityId: string;
  /** What the app now reads; null when the entity is gone. */
  entity: Entity | null;
  source: ChangeSource;
}
