import { CLASS_PRIORITY } from "@paysync/core/sync";
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
import type { ChangeFeedStore, DeviceStore, FeedChange, PayloadCipher } from "@paysync/core/ports";
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
  cipher: PayloadCipher;
}

/**
 * Applies payment facts to a user's stored state and tells every device of the user. The state
 * write (conditional on the version read: optimistic concurrency) and the `payment_state`,
 * `feature_flags` and `sync_policy` changes for all devices (priority 7, origin `server`,
 * payloads envelope-encrypted) are ONE transaction: either devices hear of a change and it is
 * stored, or neither. A concurrent writer makes it re-read and re-decide, so no update is lost.
 *
 * @example
 * const result = await applier.applyFact(userKey, fact, { eventId, createdSeconds });
 * await applier.expireGrace(userKey, new Date());
 */
export class PaymentApplier {
  constructor(private readonly ports: PaymentPorts) {}

  /** One Stripe fact; a redelivered `trial_will_end` sends its notice once. */
  applyFact(userKey: string, fact: StripeFact, meta: EventMeta, now = new Date()): Promise<PaymentApplyResult> {
    return this.update(userKey, now, (stored) => {
      const result = applyFact(stored?.state, fact, meta, now.getTime());
      if (result.notice) {
        if (stored?.noticeEventId === meta.eventId) return { outcome: "duplicate" };
        return { outcome: "notice", state: result.state, notice: result.notice, noticeEventId: meta.eventId };
      }
      if (result.outcome !== "applied") return { outcome: result.outcome };
      return { outcome: "applied", state: result.state, changed: result.changed };
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
      const changes = tell ? await this.changesFor(userKey, decision.state, version, nowMs, decision.notice) : [];
      await this.ports.feed.append(userKey, changes, [put], now);
      const devices = changes[0]?.targetDeviceIds.length ?? 0;
      return { outcome: decision.outcome, changed: decision.changed === true, tier: effectiveTier(decision.state, nowMs), devices };
    });
  }

  /** The server entities for every device of the user; none when the user has no device yet. */
  private async changesFor(userKey: string, state: PaymentState, version: number, nowMs: number, notice?: PaymentNotice): Promise<FeedChange[]> {
    const targetDeviceIds = (await this.ports.devices.list(userKey)).map((device) => device.deviceId);
    if (targetDeviceIds.length === 0) return [];
    const { cipher } = this.ports;
    return Promise.all(serverEntityChanges(state, nowMs, notice).map(async ({ entityType, payload }) => ({
      entityType,
      entityId: entityType,
      version,
      action: "upsert" as const,
      payloadCipher: await cipher.encrypt(payload, { userKey, entityType }),
      priority: CLASS_PRIORITY[entityType],
      originDeviceId: "server",
      targetDeviceIds,
    })));
  }
}
