import { Config } from "sst/node/config";
import { Queue } from "sst/node/queue";
import { Table } from "sst/node/table";
import type { LaneId, ParameterName, SecretName, TableId } from "./resources.js";

/**
 * Typed access to the resources bound to this function. In AWS, SST's bindings (and the
 * stacks' least-privilege environment) set them; locally the runtime sets the very same
 * variables. SST reads them once per cold start; asking for an unbound one is a
 * deployment error and says which binding is missing.
 */
const tables = Table as unknown as Record<string, { tableName: string } | undefined>;
const queues = Queue as unknown as Record<string, { queueUrl: string } | undefined>;
const config = Config as unknown as Record<string, string | undefined>;

function bound<T>(kind: string, name: string, read: () => T | undefined): T {
  let value: T | undefined;
  try {
    value = read();
  } catch {
    value = undefined;
  }
  if (value === undefined || value === "") throw new Error(`${kind} ${name} is not bound to this function`);
  return value;
}

export function tableName(id: TableId): string {
  return bound("table", id, () => tables[id]?.tableName);
}

export function queueUrl(lane: LaneId): string {
  return bound("queue", lane, () => queues[lane]?.queueUrl);
}

export function deadLetterQueueUrl(lane: LaneId): string {
  return bound("queue", `${lane}Dlq`, () => queues[`${lane}Dlq`]?.queueUrl);
}

export function secret(name: SecretName): string {
  return bound("secret", name, () => config[name]);
}

export function parameter(name: ParameterName): string {
  return bound("parameter", name, () => config[name]);
}

/** The deployment stage (`local` on a laptop). */
export function stage(): string {
  return process.env.SST_STAGE ?? "local";
}
