import type { PriceTierMap, StripeFact } from "@paysync/core/payments";
import { logger } from "../base/observability.js";
import type { CustomerLinks } from "../store/customer-links.js";
import type { PaymentApplier, PaymentOutcome } from "./payment-applier.js";
import { coreFactOf, eventMetaOfMessage, type WebhookMessage } from "./webhook-message.js";

export type ProcessOutcome = PaymentOutcome | "linked" | "parked";

export interface ProcessResult {
  outcome: ProcessOutcome;
  /** The user the event was applied to; absent while the customer is unlinked. */
  userKey?: string;
  /** Whether this message (or the parked events it released) changed what the user gets. */
  changed: boolean;
  /** Parked events applied because this message brought the link. */
  released: number;
}

/**
 * The Webhooks lane's work for one message, in the order SPEC.md §3 asks for:
 * 1. find the user: the event's own `userId` (subscription or invoice metadata, checkout
 *    session, customer metadata) — which also links the customer — else the stored link;
 * 2. no user yet: park the event under the customer and stop;
 * 3. apply the customer's parked events, oldest first (they arrived earlier), then this one.
 * Every step is idempotent (links and parking by key, the reducer by construction), so a
 * message that fails half-way is simply delivered again.
 *
 * @example
 * const result = await processor.process(WebhookMessageSchema.parse(JSON.parse(record.body)));
 */
export class WebhookProcessor {
  constructor(
    private readonly priceTiers: () => PriceTierMap,
    private readonly links: CustomerLinks<WebhookMessage>,
    private readonly applier: PaymentApplier,
  ) {}

  async process(message: WebhookMessage, now = new Date()): Promise<ProcessResult> {
    const fact = this.factOf(message);
    const meta = eventMetaOfMessage(message);
    const linked = await this.links.userKeyOf(message.customerKey);
    const named = "userId" in fact ? fact.userId : undefined;
    if (named !== undefined && named !== linked) {
      const relinked = await this.links.link(message.customerKey, named, meta, now);
      if (linked !== undefined) logger.warn("Stripe customer names another user", { eventType: message.eventType, relinked });
    }
    const userKey = named ?? linked;
    if (userKey === undefined) {
      await this.links.park(message, now);
      return { outcome: "parked", changed: false, released: 0 };
    }
    // Always look: a retry of the message that wrote the link must still release the parked events.
    const released = await this.release(message.customerKey, userKey, now);
    if (fact.kind === "customer_link" || fact.kind === "ignored") {
      return { outcome: "linked", userKey, changed: released.changed, released: released.count };
    }
    const result = await this.applier.applyFact(userKey, fact, meta, now);
    return { outcome: result.outcome, userKey, changed: result.changed || released.changed, released: released.count };
  }

  private async release(customerKey: string, userKey: string, now: Date): Promise<{ count: number; changed: boolean }> {
    const parked = await this.links.parked(customerKey, now);
    let changed = false;
    for (const message of parked) {
      const fact = this.factOf(message);
      if (fact.kind !== "customer_link" && fact.kind !== "ignored") {
        const result = await this.applier.applyFact(userKey, fact, eventMetaOfMessage(message), now);
        changed ||= result.changed;
      }
      await this.links.unpark(message);
    }
    if (parked.length > 0) logger.info("parked Stripe events applied", { userKey, count: parked.length });
    return { count: parked.length, changed };
  }

  private factOf(message: WebhookMessage): StripeFact {
    const fact = coreFactOf(message, this.priceTiers());
    if ((fact.kind === "subscription" || fact.kind === "invoice") && fact.price?.configurationError) {
      // A price id is not personal data; the tier is kept as it was (SPEC.md §3).
      logger.error("configuration error: Stripe price maps to no tier; set PRICE_TIERS or the price's metadata.tier", {
        priceId: fact.price.priceId,
        eventType: message.eventType,
      });
    }
    return fact;
  }
}
