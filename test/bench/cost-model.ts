/**
 * What a million applied sync ops cost at on-demand list prices: on AWS as paysync runs them,
 * and the same work priced on Firestore and on AppSync. Pure arithmetic over two inputs, both
 * data: the price tables below (each price with where it was read and when) and the counts of
 * billed units one push, one applied op and one pull use. `npm run bench` measures those counts
 * on the local service (write and read units from `ReturnConsumedCapacity`, SQS and KMS
 * requests, handler milliseconds) and passes them in; `ESTIMATED_COUNTS` holds the estimates
 * docs/SCALE.md derives until then. Storage, data transfer out and fixed monthly charges
 * (keys, provisioned concurrency) are outside the per-op figure; SCALE.md adds them per month.
 *
 * @example
 * const usage = usagePerOp(BASIC_STANDARD_LANE, ESTIMATED_COUNTS);
 * costPerMillionOps(usage).total; // ≈ 20 (USD)
 */

/** One list price: `usd` for every `per` units of `unit`. */
export interface Price {
  usd: number;
  per: number;
  unit: string;
  /** The page the price was read from. */
  source: string;
  /** When it was read (ISO date); prices change, so a figure is only as good as this. */
  read: string;
}

const READ = "2026-12-02";
const API_GATEWAY = "https://aws.amazon.com/api-gateway/pricing/";
const LAMBDA = "https://aws.amazon.com/lambda/pricing/";
const DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/";

/** AWS us-east-1 on-demand list prices (first volume tier of each). */
export const AWS_PRICES = {
  httpApiRequest: { usd: 1.0, per: 1e6, unit: "HTTP API request (metered in 512 KB increments)", source: API_GATEWAY, read: READ },
  webSocketMessage: { usd: 1.0, per: 1e6, unit: "WebSocket message, sent or received (32 KB increments)", source: API_GATEWAY, read: READ },
  webSocketConnectionMinute: { usd: 0.25, per: 1e6, unit: "WebSocket connection-minute", source: API_GATEWAY, read: READ },
  lambdaRequest: { usd: 0.2, per: 1e6, unit: "Lambda invocation", source: LAMBDA, read: READ },
  lambdaArmGbSecond: { usd: 0.0000133334, per: 1, unit: "Lambda arm64 GB-second", source: LAMBDA, read: READ },
  sqsFifoRequest: { usd: 0.5, per: 1e6, unit: "SQS FIFO request (each 64 KiB chunk of a request is one)", source: "https://aws.amazon.com/sqs/pricing/", read: READ },
  dynamoWriteUnit: { usd: 0.625, per: 1e6, unit: "DynamoDB on-demand write request unit (1 KB; transactional: 2 per KB)", source: DYNAMODB, read: READ },
  dynamoReadUnit: { usd: 0.125, per: 1e6, unit: "DynamoDB on-demand read request unit (4 KB strongly consistent; transactional: 2)", source: DYNAMODB, read: READ },
  dynamoStorageGbMonth: { usd: 0.25, per: 1, unit: "DynamoDB Standard table storage, GB-month", source: DYNAMODB, read: READ },
  kmsRequest: { usd: 0.03, per: 1e4, unit: "KMS symmetric request (GenerateDataKey, Decrypt …)", source: "https://aws.amazon.com/kms/pricing/", read: READ },
  logsIngestionGb: { usd: 0.5, per: 1, unit: "CloudWatch Logs ingestion (Standard class), GB", source: "https://aws.amazon.com/cloudwatch/pricing/", read: READ },
} as const satisfies Record<string, Price>;

const FIRESTORE = "https://cloud.google.com/firestore/pricing";

/**
 * Firestore Standard edition, a single-region location (us-east1) — a regional DynamoDB table's
 * counterpart; multi-region locations (nam5) list twice these. A document operation is billed
 * per document whatever its size (up to 1 MiB); index entries are not billed per write.
 */
export const FIRESTORE_PRICES = {
  documentWrite: { usd: 0.09, per: 1e5, unit: "document write", source: FIRESTORE, read: READ },
  documentRead: { usd: 0.03, per: 1e5, unit: "document read (a listener's update counts as one)", source: FIRESTORE, read: READ },
  documentDelete: { usd: 0.01, per: 1e5, unit: "document delete", source: FIRESTORE, read: READ },
} as const satisfies Record<string, Price>;

const APPSYNC = "https://aws.amazon.com/appsync/pricing/";

/** AWS AppSync GraphQL, us-east-1. */
export const APPSYNC_PRICES = {
  operation: { usd: 4.0, per: 1e6, unit: "query or mutation", source: APPSYNC, read: READ },
  realtimeUpdate: { usd: 2.0, per: 1e6, unit: "real-time update delivered (5 KB increments)", source: APPSYNC, read: READ },
  connectionMinute: { usd: 0.08, per: 1e6, unit: "real-time connection-minute", source: APPSYNC, read: READ },
} as const satisfies Record<string, Price>;

const dollars = (units: number, price: Price): number => (units / price.per) * price.usd;

/** What one request of a phase uses of each billed unit (the bench measures these). */
export interface PhaseCounts {
  /** DynamoDB write request units: `ConsumedCapacity.CapacityUnits` summed over the phase's calls. */
  writeUnits: number;
  readUnits: number;
  /** Items written, read and deleted: what Firestore bills as document operations. */
  itemWrites: number;
  itemReads: number;
  itemDeletes: number;
  /** SQS requests as billed (a batch send under 64 KiB is one). */
  sqsRequests: number;
  kmsRequests: number;
  /** Billed Lambda time of the phase, in milliseconds. */
  lambdaMs: number;
  /** CloudWatch Logs bytes the phase ingests (platform lines, metrics, access log). */
  logBytes: number;
}

/** The measured (or estimated) counts the model turns into a cost. */
export interface MeasuredCounts {
  /** One `POST /v1/sync/push` carrying `opsPerPush` ops below priority 8. */
  push: PhaseCounts;
  /** One op applied by the sync worker: its reads, its transaction, its audit entry. */
  applyPerOp: PhaseCounts;
  /** One worker invocation besides its ops: the receive and the delete batch, start-up lines. */
  applyPerBatch: PhaseCounts;
  /** One `GET /v1/sync/pull` that returns changes. */
  deliveringPull: PhaseCounts;
  /** The later removal of the op's traces by the retention purge, per target device. */
  purgePerTarget: PhaseCounts;
}

/** The workload an average op belongs to. */
export interface SyncWorkload {
  /** Ops one push carries (the client batches what the user did since the last push). */
  opsPerPush: number;
  /** Ops per worker invocation: a lane's batch size is its ceiling, traffic decides the fill. */
  batchFill: number;
  /** Feed targets of an op: the user's other devices (none on tiers without cross-device sync). */
  targetDevices: number;
  /** Changes a pull that carries changes returns on average. */
  changesPerDeliveringPull: number;
  /** WebSocket pokes sent per op (premium: one per target device that is connected). */
  pokesPerOp: number;
  /** Size of the change as stored and delivered (payload ciphertext plus attributes), bytes. */
  changeBytes: number;
  memoryMb: { push: number; worker: number; pull: number };
}

export const NO_COUNTS: PhaseCounts = {
  writeUnits: 0, readUnits: 0, itemWrites: 0, itemReads: 0, itemDeletes: 0, sqsRequests: 0, kmsRequests: 0, lambdaMs: 0, logBytes: 0,
};

/** Billed units per applied op, summed over every phase that serves it. */
export interface UsagePerOp {
  httpRequests: number;
  webSocketMessages: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
  sqsRequests: number;
  writeUnits: number;
  readUnits: number;
  kmsRequests: number;
  logBytes: number;
  itemWrites: number;
  itemReads: number;
  itemDeletes: number;
  /** Pull requests that deliver the op, and pushes that carry it (shares of one). */
  deliveringPulls: number;
  pushes: number;
}

type Summed = Omit<UsagePerOp, "httpRequests" | "webSocketMessages" | "lambdaRequests" | "deliveringPulls" | "pushes">;

function scaled(counts: PhaseCounts, share: number, memoryMb: number): Summed {
  return {
    lambdaGbSeconds: share * (counts.lambdaMs / 1000) * (memoryMb / 1024),
    sqsRequests: share * counts.sqsRequests,
    writeUnits: share * counts.writeUnits,
    readUnits: share * counts.readUnits,
    kmsRequests: share * counts.kmsRequests,
    logBytes: share * counts.logBytes,
    itemWrites: share * counts.itemWrites,
    itemReads: share * counts.itemReads,
    itemDeletes: share * counts.itemDeletes,
  };
}

function sum(parts: Summed[]): Summed {
  const total = scaled(NO_COUNTS, 0, 0);
  for (const part of parts) for (const key of Object.keys(total) as (keyof Summed)[]) total[key] += part[key];
  return total;
}

/**
 * The units one applied op uses: its share of a push (1 / opsPerPush), its own apply, its share
 * of a worker invocation (1 / batchFill), the pulls that deliver it to each target device
 * (targetDevices / changesPerDeliveringPull) and its purge.
 */
export function usagePerOp(workload: SyncWorkload, counts: MeasuredCounts): UsagePerOp {
  const pushes = 1 / workload.opsPerPush;
  const batches = 1 / workload.batchFill;
  const deliveringPulls = workload.targetDevices / workload.changesPerDeliveringPull;
  const parts = sum([
    scaled(counts.push, pushes, workload.memoryMb.push),
    scaled(counts.applyPerOp, 1, workload.memoryMb.worker),
    scaled(counts.applyPerBatch, batches, workload.memoryMb.worker),
    scaled(counts.deliveringPull, deliveringPulls, workload.memoryMb.pull),
    scaled(counts.purgePerTarget, workload.targetDevices, workload.memoryMb.worker),
  ]);
  return {
    ...parts,
    httpRequests: pushes + deliveringPulls,
    webSocketMessages: workload.pokesPerOp,
    lambdaRequests: pushes + batches + deliveringPulls,
    deliveringPulls,
    pushes,
  };
}

/** The usage of one request of a single phase (an idle pull, an entitlements call …). */
export function usageOfRequest(counts: PhaseCounts, memoryMb: number): UsagePerOp {
  return { ...scaled(counts, 1, memoryMb), httpRequests: 1, webSocketMessages: 0, lambdaRequests: 1, deliveringPulls: 0, pushes: 0 };
}

export interface CostBreakdown {
  /** USD per million, by line. */
  lines: Record<string, number>;
  total: number;
}

function breakdown(lines: Record<string, number>): CostBreakdown {
  return { lines, total: Object.values(lines).reduce((a, b) => a + b, 0) };
}

const MILLION = 1e6;
const GB = 1e9;

/** USD per million ops (or requests) on AWS, at `prices`. */
export function awsCostPerMillion(usage: UsagePerOp, prices = AWS_PRICES): CostBreakdown {
  return breakdown({
    "API Gateway HTTP requests": dollars(MILLION * usage.httpRequests, prices.httpApiRequest),
    "API Gateway WebSocket messages": dollars(MILLION * usage.webSocketMessages, prices.webSocketMessage),
    "Lambda requests": dollars(MILLION * usage.lambdaRequests, prices.lambdaRequest),
    "Lambda duration (arm64)": dollars(MILLION * usage.lambdaGbSeconds, prices.lambdaArmGbSecond),
    "SQS FIFO requests": dollars(MILLION * usage.sqsRequests, prices.sqsFifoRequest),
    "DynamoDB write units": dollars(MILLION * usage.writeUnits, prices.dynamoWriteUnit),
    "DynamoDB read units": dollars(MILLION * usage.readUnits, prices.dynamoReadUnit),
    "KMS requests": dollars(MILLION * usage.kmsRequests, prices.kmsRequest),
    "CloudWatch Logs ingestion": dollars((MILLION * usage.logBytes) / GB, prices.logsIngestionGb),
  });
}

/**
 * The same item operations on Firestore: every DynamoDB item written, read or deleted becomes
 * one document write, read or delete. The database only: the tier and priority logic that
 * paysync's Lambdas run would need Cloud Functions or Cloud Run on top, not priced here.
 */
export function firestoreCostPerMillion(usage: UsagePerOp, prices = FIRESTORE_PRICES): CostBreakdown {
  return breakdown({
    "document writes": dollars(MILLION * usage.itemWrites, prices.documentWrite),
    "document reads": dollars(MILLION * usage.itemReads, prices.documentRead),
    "document deletes": dollars(MILLION * usage.itemDeletes, prices.documentDelete),
  });
}

/** What an app written for Firestore would do per op instead: no feeds, no lanes, listeners. */
export interface FirestoreNativeOp {
  /** Documents a write touches: the entity, an idempotency record, history on update, an audit entry. */
  writes: number;
  /** Reads inside the write's transaction (the entity and the idempotency record). */
  transactionReads: number;
}

/** The idiomatic Firestore lower bound: each target device's listener reads the changed document once. */
export function firestoreNativeCostPerMillion(op: FirestoreNativeOp, workload: SyncWorkload, prices = FIRESTORE_PRICES): CostBreakdown {
  return breakdown({
    "document writes": dollars(MILLION * op.writes, prices.documentWrite),
    "document reads": dollars(MILLION * (op.transactionReads + workload.targetDevices), prices.documentRead),
  });
}

/** How the same work maps onto AppSync. */
export interface AppSyncMapping {
  /** Share of target devices connected when the op is applied: they get it as a subscription update. */
  connectedShare: number;
  /** Changes one catch-up query returns to a device that was offline. */
  changesPerCatchUpQuery: number;
}

/**
 * The same work behind AppSync: one mutation per push, a subscription update (5 KB increments)
 * per connected target device, a catch-up query for the others, and the same DynamoDB writes
 * and reads (the resolvers write what the worker writes). No API Gateway, SQS or Lambda: the
 * resolvers are AppSync JavaScript resolvers — which also means no priority lanes.
 */
export function appSyncCostPerMillion(
  usage: UsagePerOp, workload: SyncWorkload, mapping: AppSyncMapping, awsPrices = AWS_PRICES, prices = APPSYNC_PRICES,
): CostBreakdown {
  const updateIncrements = Math.max(1, Math.ceil(workload.changeBytes / 5_000));
  const updates = workload.targetDevices * mapping.connectedShare * updateIncrements;
  const catchUpQueries = (workload.targetDevices * (1 - mapping.connectedShare)) / mapping.changesPerCatchUpQuery;
  return breakdown({
    "AppSync mutations and queries": dollars(MILLION * (usage.pushes + catchUpQueries), prices.operation),
    "AppSync real-time updates": dollars(MILLION * updates, prices.realtimeUpdate),
    "DynamoDB write units": dollars(MILLION * usage.writeUnits, awsPrices.dynamoWriteUnit),
    "DynamoDB read units": dollars(MILLION * usage.readUnits, awsPrices.dynamoReadUnit),
    "KMS requests": dollars(MILLION * usage.kmsRequests, awsPrices.kmsRequest),
  });
}

// ── Estimates until `npm run bench` measures them (derivations in docs/SCALE.md §6.2) ────────────

/** A basic-tier user with 1.6 devices pushing 1 KB mood entries and check-ins to the standard lane. */
export const BASIC_STANDARD_LANE: SyncWorkload = {
  opsPerPush: 3,
  batchFill: 2,
  targetDevices: 0.6,
  changesPerDeliveringPull: 2,
  pokesPerOp: 0,
  changeBytes: 2_000,
  memoryMb: { push: 512, worker: 512, pull: 512 },
};

/** Estimated counts (to be measured by `npm run bench`); each derived line by line in docs/SCALE.md §6.2. */
export const ESTIMATED_COUNTS: MeasuredCounts = {
  push: {
    writeUnits: 18.5, readUnits: 3, itemWrites: 7.5, itemReads: 6.6, itemDeletes: 0,
    sqsRequests: 1, kmsRequests: 0, lambdaMs: 60, logBytes: 1_300,
  },
  applyPerOp: {
    writeUnits: 17.4, readUnits: 5, itemWrites: 6.1, itemReads: 5.6, itemDeletes: 1,
    sqsRequests: 0, kmsRequests: 0, lambdaMs: 30, logBytes: 400,
  },
  applyPerBatch: { ...NO_COUNTS, sqsRequests: 2, lambdaMs: 10, logBytes: 1_000 },
  deliveringPull: {
    writeUnits: 3.5, readUnits: 4, itemWrites: 2.5, itemReads: 5.6, itemDeletes: 0,
    sqsRequests: 0, kmsRequests: 0, lambdaMs: 40, logBytes: 1_300,
  },
  purgePerTarget: { ...NO_COUNTS, writeUnits: 2, itemDeletes: 1 },
};

/** A pull that finds nothing new: same reads and bookkeeping writes, an empty page. */
export const ESTIMATED_IDLE_PULL: PhaseCounts = {
  writeUnits: 3.5, readUnits: 4, itemWrites: 2.5, itemReads: 3.6, itemDeletes: 0,
  sqsRequests: 0, kmsRequests: 0, lambdaMs: 40, logBytes: 1_300,
};

/** The Firestore-native write of one op: entity, idempotency record, history half the time, audit. */
export const FIRESTORE_NATIVE_OP: FirestoreNativeOp = { writes: 3.5, transactionReads: 2 };

/** Half the target devices online when an op applies; a reconnecting device catches up two changes a query. */
export const APPSYNC_MAPPING: AppSyncMapping = { connectedShare: 0.5, changesPerCatchUpQuery: 2 };
