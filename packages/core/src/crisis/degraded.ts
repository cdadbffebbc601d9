/**
 * Degraded mode of the crisis path (SPEC.md §5: "the crisis path answers even when storage is
 * down"): which failures put a call in degraded mode, and what it answers then. A degraded
 * answer is a 200 with `degraded: true`: the hotline (which needs no storage) and whatever
 * crisis data could be read; a write that could not be made is kept durably and applied once
 * storage is back.
 *
 * @example
 * try { return await service.activate(userKey, request); }
 * catch (error) { if (!isCrisisStorageFault(error)) throw error; … }
 */
import { DependencyError, PaysyncError } from "../errors.js";

/**
 * A failure of storage or keys rather than of the request: anything but a request error the
 * caller must fix (bad input, a device that is not theirs). Those stay 4xx and change nothing;
 * everything else must never reach a person in crisis as a 5xx.
 */
export function isCrisisStorageFault(error: unknown): boolean {
  return !(error instanceof PaysyncError) || error instanceof DependencyError;
}

/** A crisis entity that exists but could not be read (KMS or DynamoDB failed), as opposed to absent or rejected. */
export class CrisisReadFailed extends DependencyError {
  constructor(readonly entityType: string, options?: { cause?: unknown }) {
    super(`Crisis data (${entityType}) could not be read`);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
