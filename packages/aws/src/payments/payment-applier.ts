import { CLASS_PRIORITY, pokesFor, SERVER_ORIGIN } from "@paysync/core/sync";
import {
  applyFact,
  effectiveTier,
  expireGrace,
  type ApplyOutcome,
  type EventMeta,
  type PaymentNotice,
  type PaymentState,
  type StripeFact,
} from "@paysync/core/payments";
import { serverEntityChanges } from "@paysync/core/payments/entitlements";
import type { ChangeFeedStore, CommitSeqs, DeviceStore, EntityStore, FeedChange, PayloadCipher, PokeSink } from "@paysync/core/ports";
import { WriteConditionFailed } from "@paysync/core/ports";
import type { Tier } from "@paysync/core/tiers";
import { OPTIMISTIC, retrying } from "../base/retry.js";
import type { PaymentStateRepository, StoredPaymentState } from "../store/payment-state.js";

export type PaymentOutcome = ApplyOutcome | "notice";

export interface PaymentApplyResult {
  outcome: PaymentOutcome;
  /** Tier, status, grace end or paymentCurrent changed, and the devices were told. */
  changed: boolean;
  tier: Tier;
  /** Devices that received the changes. */
  devices: number;
}

/** What to write, decided from the state as read; `state` absent: write nothing. */
interface Decision {
  outcome: PaymentOutcome;
  state?: PaymentState;
  changed?: boolean;
  notice?: PaymentNotice;
  noticeEventId?: string;
}

export interface PaymentPorts {
  paymentState: PaymentStateRepository;
  feed: ChangeFeedStore;
  devices: DeviceStore;
  /** Where the server entities live, so a new device's bootstrap carries them. */
  entities: EntityStore;
  cipher: PayloadCipher;
  /** Realtime pokes after commit; absent: none. */
  pokes?: PokeSink;
}

/**
 * Applies payment facts to a user's stored state and tells every device of the user. The state
 * write (conditional on the version read: optimistic concurrency) and the `payment_state`,
 * `feature_flags` and `sync_policy` changes for all devices (priority 7, origin `server`,
 * payloads envelope-encrypted) are ONE transaction with the same three stored as the user's
 * entities (version = the payment state's): either devices hear of a change and it is stored,
 * or neither. After the commit every device is poked, whatever the tier. A concurrent writer makes it re-read and re-decide, so no update is lost.
 *
 * @example
 * const result = await applier.applyFact(userKey, fact, { eventId, createdSeconds });
 * await applier.expireGrace(userKey, new Date());
 */
export class PaymentApplier {
  constructor(private readonly ports: PaymentPorts) {}

  /**
   * One Stripe fact; a redelivered `trial_will_end` sends its notice once, and `billing_issue`
   * rides on the change that opened the episode (a redelivery changes nothing, so sends nothing).
   */
  applyFact(userKey: string, fact: StripeFact, meta: EventMeta, now = new Date()): Promise<PaymentApplyResult> {
    return this.update(userKey, now, (stored) => {
      const result = applyFact(stored?.state, fact, meta, now.getTime());
      if (result.notice === "trial_will_end") {
        if (stored?.noticeEventId === meta.eventId) return { outcome: "duplicate" };
        return { outcome: "notice", state: result.state, notice: result.notice, noticeEventId: meta.eventId };
      }
      if (result.outcome !== "applied") return { outcome: result.outcome };
      return { outcome: "applied", state: result.state, changed: result.changed, ...(result.notice ? { notice: result.notice } : {}) };
    });
  }

  /** The expiry job's step: a grace period that ran out by `now` becomes `free`. */
  expireGrace(userKey: string, now = new Date()): Promise<PaymentApplyResult> {
    return this.update(userKey, now, (stored) => {
      if (!stored) return { outcome: "no_effect" };
      const result = expireGrace(stored.state, now.getTime());
      return result.changed ? { outcome: "applied", state: result.state, changed: true } : { outcome: "no_effect" };
    });
  }

  /** Concurrent workers only make a write retry on fresh state (re-read, re-decide): no update is lost. */
  private update(userKey: string, now: Date, decide: (stored: StoredPaymentState | undefined) => Decision): Promise<PaymentApplyResult> {
    const nowMs = now.getTime();
    return retrying({ ...OPTIMISTIC, pauseMs: 0, retryOn: (error) => error instanceof WriteConditionFailed }, async () => {
      const stored = await this.ports.paymentState.get(userKey);
      const decision = decide(stored);
      if (!decision.state) {
        return { outcome: decision.outcome, changed: false, tier: stored ? effectiveTier(stored.state, nowMs) : "free", devices: 0 };
      }
      const version = (stored?.version ?? 0) + 1;
      const put = this.ports.paymentState.putWrite(userKey, decision.state, stored?.version, {
        noticeEventId: decision.noticeEventId ?? stored?.noticeEventId,
        now,
      });
      const tell = decision.changed === true || decision.notice !== undefined;
      // The counter before the device list: a device registered after it makes the commit re-read.
      const [entities, knownSeq, targetDeviceIds] = tell
        ? await Promise.all([
          this.serverEntities(userKey, decision.state, version, nowMs, decision.notice),
          this.ports.feed.readSeq(userKey),
          this.ports.devices.list(userKey).then((devices) => devices.map((device) => device.deviceId)),
        ])
        : [[], undefined, []];
      const changes: FeedChange[] = targetDeviceIds.length === 0 ? [] : entities.map((entity) => ({ ...entity, targetDeviceIds }));
      // The payment state first (its condition decides a retry), then the server entities as the
      // devices were told them, each with its change's commit sequence: a bootstrap carries them.
      const writes = ({ seqs, after }: CommitSeqs) => [put, ...entities.map((entity, i) => this.ports.entities.serverEntityWrite(userKey, {
        entityType: entity.entityType, entityId: entity.entityId, version, action: "upsert", payloadCipher: entity.payloadCipher,
        clientTime: now.toISOString(), devicePriority: 0, originDeviceId: entity.originDeviceId, priority: entity.priority,
        commitSeq: seqs[i] ?? after,
      }, now))];
      await this.ports.feed.append(userKey, changes, writes, now, knownSeq);
      await this.ports.pokes?.poke(userKey, pokesFor(changes, false));
      return { outcome: decision.outcome, changed: decision.changed === true, tier: effectiveTier(decision.state, nowMs), devices: targetDeviceIds.length };
    });
  }

  /** The server entities of a state: `payment_state` (with a notice, alone), `feature_flags`, `sync_policy`. */
  private async serverEntities(userKey: string, state: PaymentState, version: number, nowMs: number, notice?: PaymentNotice): Promise<Omit<FeedChange, "targetDeviceIds">[]> {
    const { cipher } = this.ports;
    return Promise.all(serverEntityChanges(state, nowMs, notice).map(async ({ entityType, payload }) => ({
      entityType,
      entityId: entityType,
      version,
      action: "upsert" as const,
      payloadCipher: await cipher.encrypt(payload, { userKey, entityType, entityId: entityType }),
      priority: CLASS_PRIORITY[entityType],
      originDeviceId: SERVER_ORIGIN,
    })));
  }
}
