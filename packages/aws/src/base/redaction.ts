/**
 * Log redaction, the last line of defence behind "never log events or payloads": whatever
 * a handler passes to the logger, fields that carry user data or secrets are replaced, Stripe
 * objects are reduced to their type, and strings are scrubbed of email addresses, Stripe
 * customer ids and bearer tokens. Used as the Powertools Logger's `jsonReplacerFn`, so it
 * runs on every key of every log line (including the message and formatted errors).
 *
 * @example
 * const logger = new Logger({ serviceName: "paysync", jsonReplacerFn: redactingReplacer });
 * logger.info("push", { payload: { mood: 2 } }); // {"payload":"[redacted]", …}
 */

export const REDACTED = "[redacted]";

/** Field names (lower case, without `_`/`-`) whose values are never logged. */
const SECRET_FIELDS = new Set([
  // therapeutic data
  "payload", "snapshot", "contacts", "emergencycontacts", "safetyplan", "answers", "notes",
  // credentials and raw requests
  "authorization", "cookie", "setcookie", "stripesignature", "body", "rawbody", "event", "headers",
  // identity
  "email", "phone", "phonenumber", "name", "firstname", "lastname", "fullname", "displayname",
  "userid", "rawuserid", "sub", "clientreferenceid", "address",
  // Stripe
  "customer", "customerid", "card", "billingdetails", "paymentmethod", "metadata",
]);
/** Field names ending in one of these are never logged either (`contactEmail`, `idToken` …). */
const SECRET_SUFFIXES = ["email", "phone", "token", "secret", "password", "apikey"];

const SCRUBS: ReadonlyArray<[RegExp, string]> = [
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, "[email]"],
  [/\bcus_[A-Za-z0-9]+/g, "cus_[redacted]"],
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, "[jwt]"],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [redacted]"],
];

const normalise = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, "");

export function isSecretField(key: string): boolean {
  const name = normalise(key);
  return SECRET_FIELDS.has(name) || SECRET_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** A string with emails, Stripe customer ids and tokens taken out. */
export function scrubText(text: string): string {
  return SCRUBS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** Stripe API objects announce themselves: `{ id: "sub_…", object: "subscription", … }`. */
function stripeObjectType(value: object): string | undefined {
  const { object, id } = value as { object?: unknown; id?: unknown };
  return typeof object === "string" && typeof id === "string" && /^[a-z]+_[A-Za-z0-9]/.test(id) ? object : undefined;
}

/** `JSON.stringify` replacer: redacts by field name, Stripe object and string content. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== "" && isSecretField(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === "string") return scrubText(value);
  if (value instanceof Error) {
    return {
      errorName: value.name,
      message: scrubText(value.message),
      ...(value.stack === undefined ? {} : { stack: scrubText(value.stack) }),
      ...(value.cause === undefined ? {} : { cause: value.cause }),
    };
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const stripeType = stripeObjectType(value);
    if (stripeType !== undefined) return `[stripe ${scrubText(stripeType)}]`;
  }
  return value;
}
