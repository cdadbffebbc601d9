import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * PII used by the tests, in one place, so the suite-wide check (`pii-check.ts`, run when the
 * integration run ends) knows what must never show up in logs, table keys or queue metadata.
 *
 * - `PII`: fixed values; tests that need an email, phone number, contact name, user id or
 *   Stripe customer id should take them from here.
 * - `recordPii(value)`: values made up at run time (user ids with a timestamp, customer ids
 *   of Stripe factories). `useRuntime().token(userId)` and `stripeEvent()` record theirs.
 *
 * @example
 * const contacts = [{ name: PII.contactName, phone: PII.phone, relationship: "friend" }];
 */
export const PII = {
  email: "jane.doe.pii@example.com",
  secondEmail: "jane@example.com",
  stripeFixtureEmail: "example@example.com",
  phone: "+1 555 0100",
  secondPhone: "+1 (555) 010-0199",
  contactName: "MARKER-Sam",
  secondContactName: "Dr Alex Rivera-PII",
  userId: "user-pii-4f1c9a",
  stripeCustomerId: "cus_PiiFixture42",
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLXBpaS00ZjFjOWEifQ.c2lnbmF0dXJlLW5vdC1yZWFs",
} as const;

/**
 * Ids a device chooses, named after its owner as real devices often are ("Jane's iPhone").
 * They may live inside items (a device must get its own id back) but never in a table key,
 * a queue's metadata or a log line: the suite-wide check looks for them there only.
 */
export const DEVICE_CHOSEN = {
  deviceId: "janedoe-pii-iphone",
  entityId: "janedoe-pii-journal-1",
} as const;

const ROOT = resolve(import.meta.dirname, "../..");
export const RECORDED_PII_FILE = join(ROOT, ".test-output", "pii-values.txt");
/** Shorter values match too much innocent text to be worth checking (e.g. `cus_1`, `u1`). */
export const MIN_CHECKED_LENGTH = 6;

/** Remembers a PII value a test sent to the service (any test process; appended to a file). */
export function recordPii(value: string | undefined | null): void {
  if (typeof value !== "string" || value.length < MIN_CHECKED_LENGTH) return;
  try {
    appendFileSync(RECORDED_PII_FILE, `${value.replace(/\n/g, " ")}\n`);
  } catch {
    // No .test-output directory: not an integration run; nothing will be checked.
  }
}

/** Records the user ids, customer ids and contact details inside a Stripe object. */
export function recordStripePii(object: Record<string, unknown>): void {
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  const details = (object.customer_details ?? {}) as Record<string, unknown>;
  recordPii(text(object.customer));
  if (object.object === "customer") recordPii(text(object.id));
  for (const value of [metadata.userId, object.client_reference_id, object.email, object.customer_email, object.name, object.phone, details.email, details.phone, details.name]) {
    recordPii(text(value));
  }
}

/** Every value the final check looks for: the fixed ones and those recorded this run. */
export function knownPiiValues(): string[] {
  const recorded = existsSync(RECORDED_PII_FILE) ? readFileSync(RECORDED_PII_FILE, "utf8").split("\n") : [];
  return [...new Set([...Object.values(PII), ...recorded].filter((v) => v.length >= MIN_CHECKED_LENGTH))];
}
