import { observeStripeObjects } from "@paysync/local/simulator/stripe-events";
import { recordStripePii } from "./pii-fixtures.js";

/**
 * Typed factories for Stripe webhook events, shared by unit and integration tests. They live in
 * `packages/local/src/simulator/stripe-events.ts` because the simulator CLI (`npx paysync
 * stripe …`) sends the same events; shapes come from `../shared/fixtures/stripe/` when it is
 * beside the project, else from the built-in copy (`fixtureSource()` says which). Every event
 * built here has its ids and contact details recorded for the suite-wide PII check.
 *
 * @example
 * const event = subscriptionEvent({
 *   type: "customer.subscription.created", status: "active", customer: "cus_1",
 *   priceLookupKey: "premium_monthly", created: 1_750_000_000,
 * });
 */
observeStripeObjects(recordStripePii);

export * from "@paysync/local/simulator/stripe-events";
