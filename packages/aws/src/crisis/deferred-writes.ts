/**
 * Crisis writes that storage refused (degraded mode, docs/CRISIS.md), applied by the sync
 * worker once storage is back: each exactly once (the op record of its server-chosen op id,
 * the same as a pushed op's) and with the audit entry its call could not write
 * (`crisis.<route>`, outcome `applied_after_outage`). Activation rules hold as for a live
 * call: applied on the state stored then, it never lowers a level or resets an episode.
 *
 * @example
 * if (isDeferredCrisisWrite(op)) await wiring.deferredCrisisWrites().apply(op);
 */
import { NotFoundError, ValidationError } from "@paysync/core/errors";
import type { CrisisOps, CrisisOpEntityType } from "@paysync/core/crisis/ops";
import type { AuditSink, PayloadCipher } from "@paysync/core/ports";
import { isCrisisEntity } from "@paysync/core/sync/entities";
import type { SyncOpMessage } from "@paysync/core/sync/op-message";
import { errorName, logger } from "../base/observability.js";

/** A lane message that is a deferred crisis write (crisis entities only ever reach a lane that way). */
export function isDeferredCrisisWrite(op: SyncOpMessage): boolean {
  return op.priority === 10 && isCrisisEntity(op.entityType);
}

function routeOf(op: SyncOpMessage, payload: unknown): string {
  if (op.entityType === "safety_plan") return "safety_plan";
  if (op.entityType === "emergency_contacts") return "contacts";
  return (payload as { active?: boolean } | undefined)?.active === true ? "activate" : "resolve";
}

export class DeferredCrisisWrites {
  constructor(
    private readonly crisis: CrisisOps,
    private readonly cipher: PayloadCipher,
    private readonly audit: AuditSink,
  ) {}

  /**
   * Applies one deferred write. Storage still failing throws (the message is received again);
   * a write that can never apply (its device was not the user's) is audited and dropped.
   */
  async apply(op: SyncOpMessage, now = new Date()): Promise<"applied" | "duplicate" | "refused"> {
    const entityType = op.entityType as CrisisOpEntityType;
    const payload = op.payloadCipher === null ? undefined : await this.cipher.decrypt(op.payloadCipher, { userKey: op.userKey, entityType });
    const route = routeOf(op, payload);
    let outcome: "applied" | "duplicate" | "refused";
    try {
      const result = await this.crisis.applyCrisisOp({
        userKey: op.userKey, deviceId: op.deviceId, opId: op.opId, entityType, entityId: op.entityId, action: op.action,
        baseVersion: op.baseVersion, clientTime: op.clientTime, payload, priority: 10,
      }, now);
      outcome = result.status;
    } catch (error) {
      if (!(error instanceof NotFoundError || error instanceof ValidationError)) throw error;
      logger.warn("deferred crisis write refused", { entityType, errorName: errorName(error) });
      outcome = "refused";
    }
    // A duplicate was audited when it first applied.
    if (outcome !== "duplicate") {
      await this.audit.append({
        actor: "device", userKey: op.userKey, entityType, priority: 10, action: `crisis.${route}`,
        outcome: outcome === "applied" ? "applied_after_outage" : "refused_after_outage",
      });
    }
    return outcome;
  }
}
