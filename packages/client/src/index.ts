/**
 * `@paysync/client`: the paysync sync protocol for apps, in browsers, React Native and Node.
 * Node-only pieces (the file store) are in `@paysync/client/node`.
 *
 * @example
 * import { createPaysyncClient, createMemoryStore } from "@paysync/client";
 */
export { createPaysyncClient, type ClientEvents, type PaysyncClient, type PaysyncClientOptions } from "./client.js";
export type { Entity, QueuedOp, FailedOp, ChangeEvent, ChangeSource, JsonValue } from "./types.js";
export type { SyncStatus, PriorityStatus } from "./status.js";
export type { Entitlements, EntitlementsSource, FallbackReason } from "./entitlements.js";
export { BUILTIN_CRISIS_RESOURCES, type CrisisKit, type ActivationResult } from "./crisis.js";
export type { ConflictResolution } from "./conflicts.js";
export type { GetToken, TokenRequest } from "./transport.js";
export {
  PaysyncClientError, PaysyncHttpError, PaysyncNetworkError, UpgradeRequiredError, type SyncErrorInfo,
} from "./errors.js";
export type { ClientStore, StoreEntry, StoreWrite } from "./store/store.js";
export { createMemoryStore, type MemoryStore } from "./store/memory.js";
export { openIndexedDbStore, type IndexedDbStoreOptions, type IdbFactoryLike, type IdbKeyRangeLike } from "./store/indexeddb.js";
export type {
  Clock, Compressor, FetchInit, FetchLike, PlatformOptions, ResponseLike, SubtleLike, TimerHandle, WebSocketLike,
} from "./platform.js";
export { DEFAULT_BACKOFF, CRISIS_BACKOFF, backoffDelay, backoffCeiling, type BackoffPolicy } from "./backoff.js";
export { DEFAULT_BATCHING, type BatchingPolicy } from "./batching.js";
export { classPriority, CRISIS_PRIORITY } from "./priority.js";
export {
  PROTOCOL_VERSION, MAX_OP_PAYLOAD_BYTES, SERVER_ENTITY_TYPES, type CrisisResources, type PulledChange, type SupportedRange,
} from "./protocol.js";
export type { Conflict, CrisisLevel, CrisisSource, Platform as DevicePlatform, SafetyPlan, EmergencyContact } from "@paysync/core/api";
