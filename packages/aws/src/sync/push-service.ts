import type { SyncOp, SyncOpResult } from "@paysync/core/api";
import type { CrisisOpEntityType, CrisisOps } from "@paysync/core/crisis/ops";
import { DependencyError, NotFoundError, type LimitExceededError } from "@paysync/core/errors";
import type {
  DeviceRecord, DeviceStore, EntityStore, LaneMessage, LaneSink, PayloadCipher, SessionUse, TierSource, UsageLimitsStore,
} from "@paysync/core/ports";
import {
  assertCrisisPayloads, assertPayloadSizes, checkPushBytes, devicePriority, messageGroupId, planPush, pokesEveryChange, pushAnswer,
  refuse, rejectedResult, shardFor, type PlannedOp, type PushAnswer, type SyncLane,
} from "@paysync/core/sync";
import type { SyncOpMessage } from "@paysync/core/sync/op-message";
import { policyFor, type Tier, type TierPolicy } from "@paysync/core/tiers";

export interface PushRequest {
  userKey: string;
  deviceId: string;
  ops: SyncOp[];
  receivedAt: Date;
}

export interface PushOutcome {
  tier: Tier;
  results: SyncOpResult[];
  answer: PushAnswer;
}

export interface PushPorts {
  devices: DeviceStore;
  entities: EntityStore;
  limits: UsageLimitsStore;
  lanes: LaneSink;
  tiers: TierSource;
  cipher: PayloadCipher;
  /** Crisis-class ops are applied synchronously, by the crisis path, in the request. */
  crisis: CrisisOps;
}

/**
 * `POST /v1/sync/push` behind the handler: classify (core), hand crisis-class ops to the
 * crisis service synchronously, enforce the tier's limits on everything below priority 8
 * with atomic counters, encrypt and enqueue the rest on their lanes.
 *
 * Order: 413 and crisis-payload 400s first (nothing applied); crisis ops, applied in request
 * order; then the request-level byte limits (push size, daily data, bandwidth) for the ops
 * below priority 8; then their offline-queue slots, in request order; priority-8 ops go to
 * the realtime lane, never throttled, counted only against the generous active-session ceiling
 * (`ACTIVE_SESSION_CEILING`: storage through a session entity is bounded, its speed is not).
 *
 * @example
 * const { results, answer } = await pushService.push({ userKey, deviceId, ops, receivedAt: new Date() });
 */
export class PushService {
  private readonly devices: DeviceStore;
  private readonly limits: UsageLimitsStore;

  constructor(private readonly ports: PushPorts) {
    this.devices = ports.devices;
    this.limits = ports.limits;
  }

  async push(request: PushRequest): Promise<PushOutcome> {
    const { userKey, deviceId, ops, receivedAt } = request;
    assertPayloadSizes(ops);
    const [devices, tier] = await Promise.all([this.devices.list(userKey), this.ports.tiers.effectiveTier(userKey)]);
    const device = devices.find((d) => d.deviceId === deviceId);
    if (!device) throw new NotFoundError("Device not found");
    const policy = policyFor(tier);
    const plan = planPush(ops, {
      tier, receivedAtMs: receivedAt.getTime(),
      inCrisisMode: devices.some((d) => d.crisisMode), inActiveSession: devices.some((d) => d.activeSessionId !== null),
    });
    assertCrisisPayloads(plan.ops);

    const results: SyncOpResult[] = plan.ops.map((p) => ({ opId: p.op.opId, status: "duplicate", priority: p.priority, lane: p.lane }));
    const firsts = plan.ops.filter((p) => p.repeatOf === null);
    for (const p of firsts.filter((p) => p.lane === "crisis")) results[p.index] = await this.applyCrisis(userKey, deviceId, p);

    const refusals = new Map<string, LimitExceededError>();
    const limited = firsts.filter((p) => !p.exempt);
    const admitted = await this.admit(userKey, policy, limited, plan.chargedBytes, refusals, receivedAt);
    const reserved = new Set(admitted.reserved);
    const exempt = firsts.filter((p) => p.exempt && p.lane !== "crisis");
    const applied = await this.ports.entities.recordedOps(userKey, [...exempt.map((p) => p.op.opId), ...admitted.alreadyPending]);
    // A slot already held but no op record: an earlier attempt reserved it and may have failed
    // before its message left (a 5xx the device retries). Sent again, holding that slot; the
    // lane's deduplication id (the opId) and the applier's op record keep it exactly once.
    const resent = new Set(admitted.alreadyPending.filter((id) => !applied.has(id)));
    const holdsSlot = (opId: string) => reserved.has(opId) || resent.has(opId);
    const freshExempt = exempt.filter((p) => !applied.has(p.op.opId));
    const ceiling = await this.limits.chargeSessionUse(userKey, sessionUses(freshExempt), receivedAt);
    if (!ceiling.ok) refuse(refusals, freshExempt, ceiling.error);
    const toSend = firsts.filter((p) => holdsSlot(p.op.opId) || (freshExempt.includes(p) && ceiling.ok));

    const messages = await Promise.all(toSend.map((p) => this.laneMessage(userKey, device, policy, p, holdsSlot(p.op.opId), receivedAt)));
    const { failed } = await this.ports.lanes.publish(messages);
    if (failed.length > 0) {
      await this.limits.releasePending(userKey, failed.filter((id) => reserved.has(id)));
      throw new DependencyError("The sync lanes are unavailable; push again (accepted ops answer duplicate)");
    }
    // A resent op keeps its `duplicate` answer: it was accepted before, whatever that attempt heard.
    for (const p of toSend) results[p.index] = { opId: p.op.opId, status: resent.has(p.op.opId) ? "duplicate" : "queued", priority: p.priority, lane: p.lane };
    for (const p of [...limited, ...freshExempt]) {
      const error = refusals.get(p.op.opId);
      if (error) results[p.index] = rejectedResult(p, error);
    }
    await this.devices.touch(userKey, device, receivedAt);
    return { tier, results, answer: pushAnswer(results, refusals) };
  }

  /**
   * The limits of the ops below priority 8, in order: push size, daily data, bandwidth (all
   * for the whole request), then offline-queue slots per op. Answers the opIds reserved now
   * and those whose slot was already held (pending, or applied: `appliedOps` tells which).
   */
  private async admit(
    userKey: string, policy: TierPolicy, limited: PlannedOp[], bytes: number, refusals: Map<string, LimitExceededError>, now: Date,
  ): Promise<{ reserved: string[]; alreadyPending: string[] }> {
    if (limited.length === 0) return { reserved: [], alreadyPending: [] };
    const size = checkPushBytes({ policy, bytes, priority: 1 });
    const daily = size.ok ? await this.limits.chargeDaily(userKey, policy, bytes, "push", now) : size;
    const bandwidth = daily.ok ? await this.limits.takeBandwidth(userKey, policy, bytes, now) : daily;
    if (!bandwidth.ok) {
      if (daily.ok) await this.limits.refundDaily(userKey, bytes, now);
      refuse(refusals, limited, bandwidth.error);
      return { reserved: [], alreadyPending: [] };
    }
    const reservation = await this.limits.reservePending(userKey, limited.map((p) => p.op.opId), policy, now);
    if (reservation.error) refuse(refusals, limited.filter((p) => reservation.refused.includes(p.op.opId)), reservation.error);
    return { reserved: reservation.reserved, alreadyPending: reservation.duplicates };
  }

  private async applyCrisis(userKey: string, deviceId: string, p: PlannedOp): Promise<SyncOpResult> {
    const priority = p.priority as 9 | 10;
    const result = await this.ports.crisis.applyCrisisOp({
      userKey, deviceId, opId: p.op.opId, entityType: p.op.entityType as CrisisOpEntityType, entityId: p.op.entityId,
      action: p.op.action, baseVersion: p.op.baseVersion, clientTime: p.clientTime, payload: p.op.payload, priority,
    });
    return { opId: p.op.opId, status: result.status, priority, lane: "crisis" };
  }

  private async laneMessage(
    userKey: string, device: DeviceRecord, policy: TierPolicy, p: PlannedOp, pendingSlot: boolean, now: Date,
  ): Promise<LaneMessage> {
    const { op } = p;
    const message: SyncOpMessage = {
      v: 1, userKey, deviceId: device.deviceId,
      devicePriority: devicePriority({
        activeSession: device.activeSessionId !== null, crisisMode: device.crisisMode, primary: device.primary,
        lastSeenAtMs: device.lastSeenAt ? Date.parse(device.lastSeenAt) : 0,
      }, now.getTime()),
      opId: op.opId, entityType: op.entityType, entityId: op.entityId, action: op.action, baseVersion: op.baseVersion,
      clientTime: p.clientTime, priority: p.priority,
      payloadCipher: op.action === "delete" || op.payload === undefined ? null : await this.ports.cipher.encrypt(op.payload, { userKey, entityType: op.entityType, entityId: op.entityId }),
      conflictResolution: policy.conflictResolution, crossDeviceSync: policy.crossDeviceSync,
      pokeEveryChange: pokesEveryChange(policy), enqueuedAtMs: Date.now(), pendingSlot,
    };
    return { lane: p.lane as SyncLane, groupId: messageGroupId(userKey, shardFor(op.entityId, policy.maxConcurrentOps)), message };
  }
}

/** The priority-8 ops of a request, per session entity: what the active-session ceiling counts. */
function sessionUses(ops: readonly PlannedOp[]): SessionUse[] {
  const bySession = new Map<string, SessionUse>();
  for (const p of ops) {
    const key = `${p.op.entityType}#${p.op.entityId}`;
    const use = bySession.get(key) ?? { entityType: p.op.entityType, entityId: p.op.entityId, ops: 0, bytes: 0 };
    use.ops += 1;
    use.bytes += p.bytes;
    bySession.set(key, use);
  }
  return [...bySession.values()];
}
