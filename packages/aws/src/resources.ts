/**
 * The one definition of paysync's AWS resources. The SST stacks build them in AWS and the
 * local runtime creates the same tables, queues and schedules on the emulators, so the two
 * can never drift apart. Plain data only: no CDK or SDK imports here. The HTTP routes are the
 * API manifest of `@paysync/core/api/routes` (with their schemas); this file says what each
 * function serving them may touch.
 */
import { API_ROUTES, type ApiFunction } from "@paysync/core/api/routes";

export type KeyType = "string" | "number";

export interface TableDefinition {
  /** Construct id; also the SST binding name (`Table.<id>.tableName`). */
  id: string;
  purpose: string;
  fields: Record<string, KeyType>;
  partitionKey: string;
  sortKey: string;
  globalIndexes: Record<string, { partitionKey: string; sortKey: string }>;
  /** Attribute holding an epoch-seconds expiry. TTL deletion is lazy: reads filter expired items. */
  timeToLiveAttribute: string;
}

/** Therapeutic data, payment state and the audit trail live in separate tables (SPEC.md §5). */
export const TABLES = {
  Sync: {
    id: "Sync",
    purpose: "devices, entities, history, per-device change feeds, conflicts, limit counters, the crisis directory",
    fields: { pk: "string", sk: "string", gsi1pk: "string", gsi1sk: "string" },
    partitionKey: "pk",
    sortKey: "sk",
    globalIndexes: { gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" } },
    timeToLiveAttribute: "expiresAt",
  },
  Payments: {
    id: "Payments",
    purpose: "payment state per user, customer links, processed Stripe events, parked events",
    fields: { pk: "string", sk: "string", gsi1pk: "string", gsi1sk: "string" },
    partitionKey: "pk",
    sortKey: "sk",
    globalIndexes: { gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" } },
    timeToLiveAttribute: "expiresAt",
  },
  Audit: {
    id: "Audit",
    purpose: "append-only hash-chained audit trail, job leases, usage aggregates",
    fields: { pk: "string", sk: "string" },
    partitionKey: "pk",
    sortKey: "sk",
    globalIndexes: {},
    timeToLiveAttribute: "expiresAt",
  },
  Connections: {
    id: "Connections",
    purpose: "realtime WebSocket connections per device (expire with the connection)",
    fields: { pk: "string", sk: "string" },
    partitionKey: "pk",
    sortKey: "sk",
    globalIndexes: {},
    timeToLiveAttribute: "expiresAt",
  },
} as const satisfies Record<string, TableDefinition>;

export type TableId = keyof typeof TABLES;

export interface LaneDefinition {
  /** Construct id; also the SST binding name (`Queue.<id>.queueUrl`). */
  id: string;
  handler: string;
  batchSize: number;
  /** Seconds a batch may wait to fill; only lanes that tolerate latency get one. */
  maxBatchingWindowSeconds: number;
  /** Upper bound of concurrent consumer invocations for the lane (AWS `maximumConcurrency`). */
  maxConcurrency: number;
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the lane's dead-letter queue. */
  maxReceiveCount: number;
  /** Messages visible in the DLQ at which the depth alarm fires. */
  dlqAlarmThreshold: number;
  /** Messages visible in the lane at which the backlog alarm fires. */
  depthAlarmThreshold: number;
}

const SYNC_WORKER = "functions/workers/sync-worker.handler";

/**
 * SQS FIFO lanes (SPEC.md §2). Crisis work has no lane: the crisis function answers it — except
 * a crisis write that storage refused, which waits on the realtime lane until storage is back.
 */
export const LANES = {
  Realtime: {
    id: "Realtime", handler: SYNC_WORKER, batchSize: 1, maxBatchingWindowSeconds: 0,
    maxConcurrency: 50, visibilityTimeoutSeconds: 30, maxReceiveCount: 5,
    dlqAlarmThreshold: 1, depthAlarmThreshold: 100,
  },
  Standard: {
    id: "Standard", handler: SYNC_WORKER, batchSize: 5, maxBatchingWindowSeconds: 0,
    maxConcurrency: 20, visibilityTimeoutSeconds: 60, maxReceiveCount: 5,
    dlqAlarmThreshold: 1, depthAlarmThreshold: 1_000,
  },
  Background: {
    id: "Background", handler: SYNC_WORKER, batchSize: 10, maxBatchingWindowSeconds: 5,
    maxConcurrency: 10, visibilityTimeoutSeconds: 120, maxReceiveCount: 5,
    dlqAlarmThreshold: 1, depthAlarmThreshold: 10_000,
  },
  Webhooks: {
    id: "Webhooks", handler: "functions/workers/webhook-worker.handler", batchSize: 10,
    maxBatchingWindowSeconds: 0, maxConcurrency: 10, visibilityTimeoutSeconds: 60,
    maxReceiveCount: 8, dlqAlarmThreshold: 1, depthAlarmThreshold: 500,
  },
  /**
   * Audit entries kept while the Audit table was down (SPEC.md §5), one message group per
   * chain; the drain appends them once the table is back. Its receives fail for as long as the
   * outage lasts, so a message may be received many times (about two hours at one receive a
   * minute) before it moves to the DLQ, from which the redrive job brings it back. Any backlog
   * alarms: entries are waiting to enter the trail.
   */
  Audit: {
    id: "Audit", handler: "functions/workers/audit-drain.handler", batchSize: 10,
    maxBatchingWindowSeconds: 0, maxConcurrency: 5, visibilityTimeoutSeconds: 60,
    maxReceiveCount: 120, dlqAlarmThreshold: 1, depthAlarmThreshold: 1,
  },
} as const satisfies Record<string, LaneDefinition>;

export type LaneId = keyof typeof LANES;

/**
 * Largest lane message (SQS allows 1 MiB): an op with a 256 KiB payload grows to about
 * 350 KiB once compressed, encrypted and base64-encoded, so the 256 KiB default is too small.
 */
export const MAX_LANE_MESSAGE_BYTES = 1_048_576;

/**
 * FIFO high-throughput mode for every lane: deduplication and throughput per message group
 * (`userKey#shard`, Stripe customer), so one busy user never throttles the others and SQS's
 * 300-message/s per-queue FIFO limit does not apply. Deduplication ids are user-scoped anyway
 * (`laneDeduplicationId`): the emulator deduplicates queue-wide whatever the scope says.
 */
export const LANE_FIFO_MODE = { deduplicationScope: "messageGroup", fifoThroughputLimit: "perMessageGroupId" } as const;

/** Queue name for a lane (FIFO names must end in `.fifo`). */
export function queueName(prefix: string, laneId: string, deadLetter = false): string {
  return `${prefix}-${laneId}${deadLetter ? "-dlq" : ""}.fifo`;
}

export interface JobDefinition {
  id: string;
  handler: string;
  /** EventBridge schedule expression (UTC). */
  schedule: `cron(${string})` | `rate(${string})`;
  description: string;
}

/** Scheduled maintenance jobs (SPEC.md §6). */
export const JOBS = {
  GraceExpiry: {
    id: "GraceExpiry", handler: "functions/jobs/grace-expiry.handler",
    schedule: "rate(15 minutes)", description: "move users whose grace period ended to free",
  },
  RetentionPurge: {
    id: "RetentionPurge", handler: "functions/jobs/retention-purge.handler",
    // Hourly although the work is daily: a run cut off by Lambda's 15 minutes resumes at the
    // next tick (same run key), and a finished day costs that tick one read.
    schedule: "cron(30 * * * ? *)", description: "purge change-feed entries past the tier's retention",
  },
  DlqRedrive: {
    id: "DlqRedrive", handler: "functions/jobs/dlq-redrive.handler",
    schedule: "rate(30 minutes)", description: "move dead-lettered webhook and sync messages back, capped",
  },
  UsageAggregation: {
    id: "UsageAggregation", handler: "functions/jobs/usage-aggregation.handler",
    schedule: "cron(10 * * * ? *)", description: "aggregate yesterday's bytes and ops per user",
  },
  SloReport: {
    id: "SloReport", handler: "functions/jobs/slo-report.handler",
    schedule: "cron(20 * * * ? *)", description: "daily apply-latency and crisis SLO report",
  },
  AuditVerify: {
    id: "AuditVerify", handler: "functions/jobs/audit-verify.handler",
    schedule: "cron(40 0 * * ? *)", description: "verify the audit hash chain",
  },
} as const satisfies Record<string, JobDefinition>;

export type JobId = keyof typeof JOBS;

/** Secrets set with `npx sst secrets set <NAME> <value>`; locally generated into the data dir. */
export const SECRETS = ["STRIPE_WEBHOOK_SECRET", "PSEUDONYM_SECRET", "OPS_ADMIN_TOKEN"] as const;
export type SecretName = (typeof SECRETS)[number];

/** Plain parameters bound to functions. */
export const PARAMETERS = ["KMS_KEY_ARN", "SIGNING_KEY_ARN", "PRICE_TIERS"] as const;
export type ParameterName = (typeof PARAMETERS)[number];

/**
 * Crisis function capacity: warm instances and a reserved slice no other load can take (sizes
 * derived in docs/SCALE.md §4: at 1 M monthly users the evening peak needs 0.55 concurrent
 * crisis calls on average; 5 warm instances leave a cold start to fewer than 0.1 % of peak
 * calls even at twice that load, and 50 reserved absorb a few users' retry storms at once).
 */
export const CRISIS_CAPACITY = {
  provisionedConcurrency: 5,
  reservedConcurrency: 50,
  /** The SPEC target; a call slower than this is an SLO breach. */
  latencyTargetMs: 200,
  /** The alarm's p99 threshold, below the target so we hear before users feel it. */
  p99AlarmMs: 150,
} as const;

/** CloudWatch metric namespace for EMF metrics written by Powertools. */
export const METRICS_NAMESPACE = "paysync";

/**
 * The asymmetric key that signs entitlements (SPEC §3.1): ES256 is ECDSA on P-256 with SHA-256,
 * which KMS names this way. The stacks and the local runtime create it from this one definition.
 */
export const SIGNING_KEY = { keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", signingAlgorithm: "ECDSA_SHA_256" } as const;

export type TableAccess = "read" | "readwrite";
/**
 * What a function does with the payload key (stacks/key-policies.ts): `decrypt` unwraps branch
 * keys (it opens payloads), `generate` asks for new ones (it writes payloads), `describe` only
 * checks the key is there. A writer never unwraps: it keeps the branch keys it generated.
 */
export type PayloadKeyUse = "decrypt" | "generate" | "describe";
/** Use of the signing key: `sign` (kms:Sign) or `public_key` (kms:GetPublicKey) — never both in one function. */
export type SigningKeyAccess = "sign" | "public_key";

export interface FunctionDefinition {
  id: string;
  handler: string;
  /** Least privilege: exactly the tables this function touches, and how. */
  tables: Partial<Record<TableId, TableAccess>>;
  /** Lanes it may send to (consumers get receive/delete through their event source). */
  sendsTo: LaneId[];
  /** Lanes whose DLQ it may read and delete from (the redrive job). */
  redrives?: LaneId[];
  /** Lanes (and their DLQs) whose attributes it may read: depth for health and ops views. */
  inspects?: LaneId[];
  payloadKey?: readonly PayloadKeyUse[];
  signingKey?: SigningKeyAccess;
  /** It pokes devices after a commit: the WebSocket API's endpoint and `execute-api:ManageConnections`. */
  pokes?: true;
  secrets: SecretName[];
  parameters: ParameterName[];
  timeoutSeconds: number;
  memoryMb: number;
}

/** Only functions that turn a raw id (JWT `sub`, Stripe customer) into a pseudonym read this. */
const API_SECRETS: SecretName[] = ["PSEUDONYM_SECRET"];
const KEY_PARAMS: ParameterName[] = ["KMS_KEY_ARN"];

/**
 * Every function and what it may touch. Lane consumers and jobs are listed here too. A function
 * that appends audit entries (Audit table `readwrite`) sends to the `Audit` lane: that is where
 * its entries wait while the table is down. Only the drain (`AuditDrain`) consumes it.
 */
export const FUNCTIONS = {
  Health: {
    id: "Health", handler: "functions/http/health.handler",
    tables: { Sync: "read", Payments: "read", Audit: "read", Connections: "read" }, sendsTo: [], payloadKey: ["describe"],
    inspects: ["Realtime", "Standard", "Background", "Webhooks", "Audit"],
    secrets: [], parameters: KEY_PARAMS, timeoutSeconds: 5, memoryMb: 256,
  },
  StripeWebhook: {
    id: "StripeWebhook", handler: "functions/http/stripe-webhook.handler",
    tables: { Payments: "readwrite", Audit: "readwrite" }, sendsTo: ["Webhooks", "Audit"],
    secrets: ["STRIPE_WEBHOOK_SECRET", "PSEUDONYM_SECRET"], parameters: [], timeoutSeconds: 10, memoryMb: 512,
  },
  Entitlements: {
    id: "Entitlements", handler: "functions/http/entitlements.handler",
    tables: { Payments: "read", Audit: "readwrite" }, sendsTo: ["Audit"], signingKey: "sign", secrets: API_SECRETS, parameters: ["SIGNING_KEY_ARN"],
    timeoutSeconds: 5, memoryMb: 256,
  },
  Jwks: {
    id: "Jwks", handler: "functions/http/jwks.handler",
    tables: {}, sendsTo: [], signingKey: "public_key", secrets: [], parameters: ["SIGNING_KEY_ARN"],
    timeoutSeconds: 5, memoryMb: 256,
  },
  Devices: {
    id: "Devices", handler: "functions/http/devices.handler",
    tables: { Sync: "readwrite", Audit: "readwrite" }, sendsTo: ["Audit"], secrets: API_SECRETS, parameters: [],
    timeoutSeconds: 5, memoryMb: 256,
  },
  SyncPush: {
    id: "SyncPush", handler: "functions/http/sync-push.handler",
    tables: { Sync: "readwrite", Payments: "read", Audit: "readwrite", Connections: "readwrite" },
    // Crisis-class ops are applied in the request, and poke like the crisis routes.
    sendsTo: ["Realtime", "Standard", "Background", "Audit"], payloadKey: ["decrypt", "generate"], pokes: true,
    secrets: API_SECRETS, parameters: KEY_PARAMS, timeoutSeconds: 10, memoryMb: 512,
  },
  SyncPull: {
    id: "SyncPull", handler: "functions/http/sync-pull.handler",
    tables: { Sync: "readwrite", Payments: "read", Audit: "readwrite" }, sendsTo: ["Audit"], payloadKey: ["decrypt"],
    secrets: API_SECRETS, parameters: KEY_PARAMS, timeoutSeconds: 10, memoryMb: 512,
  },
  Conflicts: {
    id: "Conflicts", handler: "functions/http/conflicts.handler",
    tables: { Sync: "readwrite", Payments: "read", Audit: "readwrite" }, sendsTo: ["Audit"], payloadKey: ["decrypt", "generate"],
    secrets: API_SECRETS, parameters: KEY_PARAMS, timeoutSeconds: 10, memoryMb: 512,
  },
  Handoff: {
    id: "Handoff", handler: "functions/http/handoff.handler",
    tables: { Sync: "readwrite", Audit: "readwrite", Connections: "readwrite" }, sendsTo: ["Audit"], payloadKey: ["generate"], pokes: true,
    secrets: API_SECRETS, parameters: KEY_PARAMS, timeoutSeconds: 10, memoryMb: 512,
  },
  Crisis: {
    id: "Crisis", handler: "functions/crisis.handler",
    tables: { Sync: "readwrite", Audit: "readwrite", Connections: "readwrite" }, payloadKey: ["decrypt", "generate"], pokes: true,
    // Only for crisis writes storage refused (degraded mode): the sync worker applies them once it is back.
    sendsTo: ["Realtime", "Audit"],
    secrets: API_SECRETS, parameters: KEY_PARAMS, timeoutSeconds: 5, memoryMb: 1024,
  },
  /** The operators' admin routes (`/admin/*`, ops token): the crisis directory. No user data, no key. */
  Admin: {
    id: "Admin", handler: "functions/http/admin.handler",
    tables: { Sync: "readwrite", Audit: "readwrite" }, sendsTo: ["Audit"], secrets: ["OPS_ADMIN_TOKEN"], parameters: [],
    timeoutSeconds: 10, memoryMb: 256,
  },
  SyncWorker: {
    id: "SyncWorker", handler: SYNC_WORKER,
    tables: { Sync: "readwrite", Payments: "read", Audit: "readwrite", Connections: "readwrite" }, sendsTo: ["Audit"], payloadKey: ["decrypt", "generate"], pokes: true,
    secrets: [], parameters: KEY_PARAMS, timeoutSeconds: 30, memoryMb: 512,
  },
  WebhookWorker: {
    id: "WebhookWorker", handler: LANES.Webhooks.handler,
    tables: { Payments: "readwrite", Sync: "readwrite", Audit: "readwrite", Connections: "readwrite" }, sendsTo: ["Audit"], payloadKey: ["generate"], pokes: true,
    secrets: [], parameters: ["KMS_KEY_ARN", "PRICE_TIERS"], timeoutSeconds: 30, memoryMb: 512,
  },
  GraceExpiry: {
    id: "GraceExpiry", handler: JOBS.GraceExpiry.handler,
    tables: { Payments: "readwrite", Sync: "readwrite", Audit: "readwrite", Connections: "readwrite" }, sendsTo: ["Audit"], payloadKey: ["generate"], pokes: true,
    secrets: [], parameters: KEY_PARAMS, timeoutSeconds: 900, memoryMb: 512,
  },
  RetentionPurge: {
    id: "RetentionPurge", handler: JOBS.RetentionPurge.handler,
    tables: { Sync: "readwrite", Payments: "read", Audit: "readwrite" }, sendsTo: ["Audit"],
    secrets: [], parameters: [], timeoutSeconds: 900, memoryMb: 512,
  },
  DlqRedrive: {
    id: "DlqRedrive", handler: JOBS.DlqRedrive.handler,
    tables: { Audit: "readwrite" }, sendsTo: ["Realtime", "Standard", "Background", "Webhooks", "Audit"],
    redrives: ["Realtime", "Standard", "Background", "Webhooks", "Audit"],
    secrets: [], parameters: [], timeoutSeconds: 900, memoryMb: 256,
  },
  UsageAggregation: {
    id: "UsageAggregation", handler: JOBS.UsageAggregation.handler,
    tables: { Sync: "read", Audit: "readwrite" }, sendsTo: ["Audit"], secrets: [], parameters: [],
    timeoutSeconds: 900, memoryMb: 512,
  },
  SloReport: {
    id: "SloReport", handler: JOBS.SloReport.handler,
    tables: { Audit: "readwrite" }, sendsTo: ["Audit"], secrets: [], parameters: [],
    timeoutSeconds: 900, memoryMb: 512,
  },
  AuditVerify: {
    id: "AuditVerify", handler: JOBS.AuditVerify.handler,
    tables: { Audit: "readwrite" }, sendsTo: ["Audit"], secrets: [], parameters: [],
    timeoutSeconds: 900, memoryMb: 512,
  },
  AuditDrain: {
    id: "AuditDrain", handler: LANES.Audit.handler,
    // Appends only: it never sends to its own lane (a failed drain returns the message instead).
    tables: { Audit: "readwrite" }, sendsTo: [], secrets: [], parameters: [], timeoutSeconds: 30, memoryMb: 256,
  },
  RealtimeAuthorizer: {
    id: "RealtimeAuthorizer", handler: "functions/realtime/authorizer.handler",
    tables: {}, sendsTo: [], secrets: ["PSEUDONYM_SECRET"], parameters: [], timeoutSeconds: 5, memoryMb: 256,
  },
  RealtimeConnect: {
    id: "RealtimeConnect", handler: "functions/realtime/connect.handler",
    tables: { Sync: "read", Connections: "readwrite" }, sendsTo: [], secrets: [], parameters: [], timeoutSeconds: 5, memoryMb: 256,
  },
  RealtimeDisconnect: {
    id: "RealtimeDisconnect", handler: "functions/realtime/disconnect.handler",
    tables: { Connections: "readwrite" }, sendsTo: [], secrets: [], parameters: [], timeoutSeconds: 5, memoryMb: 256,
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionId = keyof typeof FUNCTIONS;

export interface RouteDefinition {
  /** `METHOD /path` with `{param}` segments, as API Gateway HTTP API writes route keys. */
  route: string;
  function: FunctionId;
  /** `false` only for `/health`, the JWKS and the Stripe webhook (which verifies its own signature). */
  auth: boolean;
}

/** Every function the API manifest names is defined here: one that is not fails type-checking. */
const definedFunction = (fn: ApiFunction): FunctionId => fn;

/** The HTTP API of SPEC.md §4, from the API manifest. */
export const ROUTES: readonly RouteDefinition[] = API_ROUTES.map(({ route, function: fn, auth }) => ({ route, function: definedFunction(fn), auth }));

/** The realtime WebSocket API (SPEC.md §4.1): its routes' functions and its `$connect` authorizer. */
export const REALTIME = {
  authorizer: "RealtimeAuthorizer",
  routes: { $connect: "RealtimeConnect", $disconnect: "RealtimeDisconnect" },
} as const satisfies { authorizer: FunctionId; routes: Record<string, FunctionId> };

/** Set by the stacks (and the local runtime) on the functions that poke devices: the management endpoint. */
export const REALTIME_ENDPOINT_VARIABLE = "PAYSYNC_REALTIME_ENDPOINT";

/** The functions that poke devices (`pokes: true`). */
export const POKING_FUNCTIONS = (Object.values(FUNCTIONS) as FunctionDefinition[]).filter((fn) => fn.pokes).map((fn) => fn.id as FunctionId);

/** Lane consumers and jobs by function id, so stacks and the local runtime agree. */
export const LANE_CONSUMER: Record<LaneId, FunctionId> = {
  Realtime: "SyncWorker", Standard: "SyncWorker", Background: "SyncWorker", Webhooks: "WebhookWorker", Audit: "AuditDrain",
};

/**
 * Concurrency reserved for a lane consumer: the sum of its lanes' `maxConcurrency`. Lambda's
 * advice for SQS event sources: without it, HTTP traffic can take the account's unreserved pool,
 * the consumer is throttled, and throttled receives count towards a message's trips to the DLQ.
 */
export function laneConsumerReservedConcurrency(consumer: FunctionId): number {
  return (Object.keys(LANE_CONSUMER) as LaneId[])
    .filter((lane) => LANE_CONSUMER[lane] === consumer)
    .reduce((total, lane) => total + LANES[lane].maxConcurrency, 0);
}
