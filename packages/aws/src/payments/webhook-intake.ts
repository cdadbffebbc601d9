import { ValidationError } from "@paysync/core/errors";
import { eventMetaOf, extractStripeFacts, parseStripeEvent } from "@paysync/core/payments";
import Stripe from "stripe";
import { customerKeyFor, userKeyFor } from "../crypto/pseudonyms.js";
import type { WebhookLane } from "../store/lanes.js";
import type { WebhookEventLog } from "../store/webhook-event-log.js";
import { recordingPriceMap, webhookMessageOf } from "./webhook-message.js";

/** Stripe's own default; a signature older than this is a replay. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type IntakeOutcome = "enqueued" | "ignored" | "duplicate";

export interface IntakeResult {
  outcome: IntakeOutcome;
  eventType: string;
}

/**
 * `POST /webhooks/stripe`, behind the HTTP adapter: verify, normalise, hand over, answer.
 *
 * 1. Verify the signature on the raw body with the official `stripe` package (tolerance 300 s).
 *    A bad or stale signature, malformed JSON or a malformed object of a handled type is a
 *    `ValidationError` (400) before anything is stored.
 * 2. Normalise it to a PII-free fact (`webhook-message.ts`).
 * 3. A recorded event id is a duplicate: 200, nothing more.
 * 4. Enqueue on the `Webhooks` lane (group = customer pseudonym, dedup id = event id), THEN
 *    record the event id. If the queue is down nothing is stored; if the record fails after
 *    the enqueue, Stripe's retry enqueues again (deduplicated by the lane within 5 minutes and
 *    by the reducer after that) and records. Either way a 5xx makes Stripe retry.
 * Types with no effect are only recorded.
 *
 * @example
 * const { outcome } = await intake.receive(rawBody(event), header(event, "stripe-signature"));
 */
export class WebhookIntake {
  constructor(
    private readonly log: WebhookEventLog,
    private readonly lane: WebhookLane,
    private readonly signingSecret: () => string,
  ) {}

  async receive(body: string, signature: string | undefined, now = new Date()): Promise<IntakeResult> {
    const event = parseStripeEvent(this.verify(body, signature, now));
    const prices = recordingPriceMap();
    const fact = extractStripeFacts(event, { priceTiers: prices.map });
    const meta = { ...eventMetaOf(event), eventType: event.type };
    if (await this.log.has(event.id)) return { outcome: "duplicate", eventType: event.type };

    if (fact.kind === "ignored") {
      const customerKey = customerOf(event.data.object);
      const fresh = await this.log.record({ ...recordOf(meta), ...(customerKey ? { customerKey: customerKeyFor(customerKey) } : {}), status: "ignored" }, now);
      return { outcome: fresh ? "ignored" : "duplicate", eventType: event.type };
    }

    const customerKey = customerKeyFor(fact.customerId);
    const message = webhookMessageOf(fact, meta, { customerKey, userKeyOf: userKeyFor }, prices.askedFor(), now.getTime());
    await this.lane.send(JSON.stringify(message), customerKey, event.id);
    const fresh = await this.log.record({ ...recordOf(meta), customerKey, status: "enqueued" }, now);
    return { outcome: fresh ? "enqueued" : "duplicate", eventType: event.type };
  }

  private verify(body: string, signature: string | undefined, now: Date): unknown {
    let event: unknown;
    try {
      event = Stripe.webhooks.constructEvent(body, signature ?? "", this.signingSecret(), SIGNATURE_TOLERANCE_SECONDS);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
        throw /tolerance/i.test(error.message) ? staleSignature() : new ValidationError("The Stripe signature is missing or does not match the body", { reason: "invalid_signature" });
      }
      if (error instanceof SyntaxError) throw new ValidationError("The webhook body is not valid JSON", { reason: "malformed_json" });
      throw error;
    }
    // The library bounds only the past; a timestamp far ahead is as unusable for replay
    // protection as an old one (a signature made for later would stay valid meanwhile).
    if (signedAtSeconds(signature) > now.getTime() / 1000 + SIGNATURE_TOLERANCE_SECONDS) throw staleSignature();
    return event;
  }
}

const staleSignature = () => new ValidationError(
  `The Stripe signature timestamp is outside the ${SIGNATURE_TOLERANCE_SECONDS} s tolerance`, { reason: "stale_signature" },
);

/** The `t=` of a verified `Stripe-Signature` header (the library has just checked it is there). */
function signedAtSeconds(header: string | undefined): number {
  const stamp = /(?:^|,)\s*t=(\d+)/.exec(header ?? "")?.[1];
  return stamp === undefined ? Number.POSITIVE_INFINITY : Number(stamp);
}

const recordOf = (meta: { eventId: string; eventType: string; createdSeconds: number }) => ({
  eventId: meta.eventId,
  eventType: meta.eventType,
  createdSeconds: meta.createdSeconds,
});

/** The customer an unhandled event names, if any, so its record can be found by customer pseudonym. */
function customerOf(object: unknown): string | undefined {
  if (typeof object !== "object" || object === null) return undefined;
  const customer = (object as { customer?: unknown }).customer;
  if (typeof customer === "string" && customer.length > 0) return customer;
  if (typeof customer === "object" && customer !== null && typeof (customer as { id?: unknown }).id === "string") return (customer as { id: string }).id;
  return undefined;
}
