/**
 * FIFO message groups within a lane (SPEC.md section 2): `userKey#shard`, the shard derived from
 * the entity id modulo the tier's max concurrent ops. One entity always lands in one group, so
 * its ops apply in order; one user never has more groups in flight than the tier allows.
 *
 * @example
 * messageGroupId(userKey, shardFor("entry-1", policyFor("basic").maxConcurrentOps)); // "<userKey>#2"
 */
import { createHash } from "node:crypto";

/** SQS FIFO caps `MessageGroupId` at 128 characters. */
export const MAX_MESSAGE_GROUP_ID_LENGTH = 128;

/**
 * Stable shard in `[0, maxConcurrentOps)`: the first 32 bits of SHA-256 of the entity id.
 * A cryptographic hash rather than a string hash so that ids chosen by a device spread evenly
 * and the result never depends on the runtime.
 */
export function shardFor(entityId: string, maxConcurrentOps: number): number {
  if (!Number.isInteger(maxConcurrentOps) || maxConcurrentOps < 1) {
    throw new RangeError(`maxConcurrentOps must be a positive integer, got ${maxConcurrentOps}`);
  }
  return createHash("sha256").update(entityId, "utf8").digest().readUInt32BE(0) % maxConcurrentOps;
}

/** Message group id `${userKey}#${shard}`; the user key is already pseudonymous (no PII in SQS). */
export function messageGroupId(userKey: string, shard: number): string {
  const id = `${userKey}#${shard}`;
  if (id.length > MAX_MESSAGE_GROUP_ID_LENGTH) {
    throw new RangeError(`message group id longer than ${MAX_MESSAGE_GROUP_ID_LENGTH} characters`);
  }
  return id;
}
