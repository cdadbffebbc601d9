/**
 * The order the client sends in. The server decides an op's real priority; the client only
 * needs its class to put crisis work first (SPEC.md section 2), using the server's own table and
 * assessment scoring so the two never disagree.
 *
 * @example
 * classPriority("assessment", { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0, 1] }); // 9
 */
import { AssessmentPayloadSchema, scoreAssessment } from "@paysync/core/sync/assessment";
import { ASSESSMENT_CRISIS_PRIORITY, CLASS_PRIORITY, EXEMPT_PRIORITY, type EntityType } from "@paysync/core/sync/entities";

/** Ops at or above this are crisis work: sent at once, ahead of everything, on their own lane. */
export const CRISIS_PRIORITY = ASSESSMENT_CRISIS_PRIORITY;
/** At or above this no tier limit applies (crisis 9-10, active session 8). */
export { EXEMPT_PRIORITY };

/** Class priority of a local op; an unknown type or an unscorable assessment gets 1 and 6. */
export function classPriority(entityType: string, payload: unknown): number {
  const base = (CLASS_PRIORITY as Readonly<Record<string, number>>)[entityType] ?? 1;
  if (entityType !== "assessment" || payload === undefined) return base;
  const parsed = AssessmentPayloadSchema.safeParse(payload);
  return parsed.success && scoreAssessment(parsed.data).crisis ? ASSESSMENT_CRISIS_PRIORITY : base;
}

export function isKnownDeviceType(entityType: string): entityType is EntityType {
  return Object.hasOwn(CLASS_PRIORITY, entityType);
}

export interface Prioritised {
  seq: number;
  entityKey: string;
  priority: number;
}

/**
 * Each op's send priority: its own, raised to that of any later op of the same entity, so that
 * an earlier op of an entity rides ahead of (never behind) a later crisis op of it. Returns the
 * ops in send order: send priority descending, then the order the app made them.
 */
export function sendOrder<T extends Prioritised>(ops: readonly T[]): Array<T & { sendPriority: number }> {
  const maxAfter = new Map<string, number>();
  const bySeqDesc = [...ops].sort((a, b) => b.seq - a.seq);
  const withPriority = bySeqDesc.map((op) => {
    const sendPriority = Math.max(op.priority, maxAfter.get(op.entityKey) ?? 0);
    maxAfter.set(op.entityKey, sendPriority);
    return { ...op, sendPriority };
  });
  return withPriority.sort((a, b) => b.sendPriority - a.sendPriority || a.seq - b.seq);
}
