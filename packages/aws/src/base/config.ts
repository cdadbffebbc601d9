import { Config } from "sst/node/config";
import { Queue } from "sst/node/queue";
import { Table } from "sst/node/table";
import { REALTIME_ENDPOINT_VARIABLE, type LaneId, type ParameterName, type SecretName, type TableId } from "../resources.js";

/**
 * The resources bound to this function, as one typed object. In AWS, SST's bindings (and the
 * stacks' least-privilege environment) set them; locally the runtime sets the very same
 * variables. Each value is read once per cold start, on first use — a function
 * is bound only to what it needs, so nothing is read eagerly; asking for an unbound one is a
 * deployment error and says which binding is missing.
 *
 * @example
 * const table = config.table("Sync");
 */
const tables = Table as unknown as Record<string, { tableName: string } | undefined>;
const queues = Queue as unknown as Record<string, { queueUrl: string } | undefined>;
const values = Config as unknown as Record<string, string | undefined>;

const read = new Map<string, string>();

function bound(kind: string, name: string, lookup: () => string | undefined): string {
  const cacheKey = `${kind}:${name}`;
  const cached = read.get(cacheKey);
  if (cached !== undefined) return cached;
  let value: string | undefined;
  try {
    value = lookup();
  } catch {
    value = undefined;
  }
  if (value === undefined || value === "") throw new Error(`${kind} ${name} is not bound to this function`);
  read.set(cacheKey, value);
  return value;
}

export const config = {
  table: (id: TableId): string => bound("table", id, () => tables[id]?.tableName),
  queue: (lane: LaneId): string => bound("queue", lane, () => queues[lane]?.queueUrl),
  deadLetterQueue: (lane: LaneId): string => bound("queue", `${lane}Dlq`, () => queues[`${lane}Dlq`]?.queueUrl),
  secret: (name: SecretName): string => bound("secret", name, () => values[name]),
  parameter: (name: ParameterName): string => bound("parameter", name, () => values[name]),
  /**
   * The WebSocket API's management endpoint, set only for the functions that poke devices
   * (`pokes` in FUNCTIONS); `undefined` elsewhere, and those functions post no pokes.
   */
  realtimeEndpoint: (): string | undefined => process.env[REALTIME_ENDPOINT_VARIABLE] || undefined,
  /** The deployment stage (`local` on a laptop). */
  stage: (): string => process.env.SST_STAGE ?? "local",
};
