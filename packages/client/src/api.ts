/**
 * The public surface of `@paysync/client` in one place: the options, the events and the client.
 * `createPaysyncClient` (client.ts) builds it from the parts.
 */
import type { Conflict, CrisisLevel, CrisisSource, Platform as DevicePlatform } from "@paysync/core/api";
import type { Feature } from "@paysync/core/tiers";
import type { BackoffPolicy } from "./backoff.js";
import type { BatchingPolicy } from "./batching.js";
import type { ConflictResolution } from "./conflicts.js";
import type { ActivationResult, CrisisKit } from "./crisis.js";
import type { Entitlements } from "./entitlements.js";
import type { SyncErrorInfo } from "./errors.js";
import type { PlatformOptions } from "./platform.js";
import type { CrisisResources, SupportedRange } from "./protocol.js";
import type { SyncStatus } from "./status.js";
import type { ClientStore } from "./store/store.js";
import type { GetToken } from "./transport.js";
import type { ChangeEvent, Entity, FailedOp, JsonValue, QueuedOp } from "./types.js";

export interface PaysyncClientOptions extends PlatformOptions {
  /** `https://api.example.com` (locally `http://127.0.0.1:3000`). */
  baseUrl: string;
  /** The user's JWT, asked for before every request; `forceRefresh` after a 401. */
  getToken: GetToken;
  /** This device's id, stable across launches (`^[A-Za-z0-9_-]{1,128}$`). */
  deviceId: string;
  platform: DevicePlatform;
  appVersion?: string;
  primary?: boolean;
  /** Durable storage for this device (one store per device). */
  store: ClientStore;
  /** ISO 3166 region for the crisis lines; the server falls back to the user's saved region, then US. */
  region?: string;
  /** Defaults to `ws(s)://<baseUrl host>/v1/realtime`; `false` turns realtime off (polling only). */
  realtimeUrl?: string | false;
  /** What the crisis kit shows before the server has ever answered (default: US 988). */
  crisisResources?: CrisisResources;
  timeouts?: {
    /** Watchdog of every request (default 30 s). */
    requestMs?: number;
    /** How long `activateCrisis()` waits for the server before answering from the cache (1.5 s). */
    crisisDeadlineMs?: number;
    /** A socket that does not open within this is dropped and retried (10 s). */
    connectMs?: number;
  };
  backoff?: Partial<BackoffPolicy>;
  crisisBackoff?: Partial<BackoffPolicy>;
  batching?: Partial<BatchingPolicy>;
  /** Poll interval while pokes cover every change (default 60 s; never below `minIntervalMs`). */
  connectedPollMs?: number;
  /** Push bodies above this are gzipped (default 1 KiB). */
  compressAboveBytes?: number;
}

export interface ClientEvents extends Record<string, unknown> {
  /** An entity the app reads changed (local write, pull, snapshot, rebuild, revert). */
  change: ChangeEvent;
  status: SyncStatus;
  entitlements: Entitlements;
  crisisKit: CrisisKit;
  conflicts: readonly Conflict[];
  /** Ops taken out of the queue for good (413, invalid): see `failed()`. */
  failed: readonly FailedOp[];
  /** The server refused this protocol version: sync stopped; show "update the app". */
  upgradeRequired: SupportedRange | null;
  /** A background step failed (it is retried; status has the details too). */
  error: SyncErrorInfo;
}

export interface PaysyncClient {
  /** Loads the device's state from the store and starts syncing in the background. */
  start(): Promise<void>;
  /** Stops every loop and socket and aborts requests under way. The queue stays in the store. */
  stop(): Promise<void>;
  /** Records an upsert (durably, before resolving) and sends it; crisis data at once. */
  write(entityType: string, entityId: string, payload: JsonValue): Promise<QueuedOp>;
  delete(entityType: string, entityId: string): Promise<QueuedOp>;
  get(entityType: string, entityId: string): Entity | undefined;
  list(entityType?: string): Entity[];
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void;
  status(): SyncStatus;
  /** Push and pull now (skips back-off, not `Retry-After`); resolves when this round is done. */
  syncNow(): Promise<void>;
  pending(): QueuedOp[];
  failed(): FailedOp[];
  discardFailed(opId: string): Promise<boolean>;
  /** Always answers a kit: from the server within the deadline, else from the cache at once. */
  activateCrisis(input: { level: CrisisLevel; source: CrisisSource }): Promise<ActivationResult>;
  resolveCrisis(): Promise<ActivationResult>;
  crisisKit(): CrisisKit;
  /** Verified entitlements, or the free tier's features (crisis access always). */
  entitlements(): Entitlements;
  hasFeature(feature: Feature): boolean;
  refreshEntitlements(): Promise<Entitlements>;
  conflicts(): readonly Conflict[];
  refreshConflicts(): Promise<readonly Conflict[]>;
  resolveConflict(id: string, resolution: ConflictResolution, payload?: JsonValue): Promise<void>;
  /** Drops the cursor and rebuilds the cache from a new snapshot (pending writes are kept). */
  resync(): Promise<void>;
}
