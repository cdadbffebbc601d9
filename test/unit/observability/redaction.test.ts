import { Logger } from "@aws-lambda-powertools/logger";
import { afterEach, describe, expect, it, vi } from "vitest";
import { REDACTED, redactingReplacer, scrubText } from "@paysync/aws/base/redaction";
import { PII } from "../../helpers/pii-fixtures.js";

/** A logger configured as `observability.ts` configures the shared one, writing into `lines`. */
function capturingLogger() {
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(chunk.toString());
      return true;
    });
  }
  const logger = new Logger({ serviceName: "paysync", jsonReplacerFn: redactingReplacer });
  return { logger, output: () => lines.join("") };
}

const subscription = { id: "sub_1Q2w3E", object: "subscription", customer: PII.stripeCustomerId, metadata: { userId: PII.userId } };

describe("log redaction", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each<[string, Record<string, unknown>]>([
    ["a payload", { payload: { mood: 2, note: PII.contactName } }],
    ["a handoff snapshot", { snapshot: { step: 3, text: "felt anxious" } }],
    ["emergency contacts", { contacts: [{ name: PII.contactName, phone: PII.phone }] }],
    ["a safety plan", { safety_plan: { reasons: ["my kids"] } }],
    ["an authorization header", { headers: { authorization: `Bearer ${PII.jwt}` } }],
    ["an email field", { customerEmail: PII.email }],
    ["a phone field", { phone_number: PII.phone }],
    ["a name field", { name: PII.contactName }],
    ["a raw user id", { userId: PII.userId }],
    ["a Stripe customer field", { customer: PII.stripeCustomerId }],
    ["a card", { card: { last4: "4242", brand: "visa" } }],
    ["a whole event", { event: { body: JSON.stringify({ email: PII.email }) } }],
  ])("%s is redacted wherever it is nested", (_name, fields) => {
    // Prepare
    const { logger, output } = capturingLogger();

    // Act
    logger.info("something happened", { context: { deeper: fields } });

    // Assess
    const line = output();
    expect(line).toContain(REDACTED);
    for (const value of Object.values(PII)) expect(line).not.toContain(value);
    expect(line).not.toMatch(/anxious|my kids|4242/);
  });

  it("a Stripe object is reduced to its type, wherever it is", () => {
    // Prepare
    const { logger, output } = capturingLogger();

    // Act
    logger.warn("unexpected price", { items: [subscription] });

    // Assess
    const line = JSON.parse(output()) as { items: unknown[] };
    expect(line.items).toEqual(["[stripe subscription]"]);
  });

  it.each<[string, string]>([
    [`link failed for ${PII.email}`, "link failed for [email]"],
    [`no user for ${PII.stripeCustomerId}`, "no user for cus_[redacted]"],
    [`token ${PII.jwt} expired`, "token [jwt] expired"],
    ["Authorization: Bearer abc.def-123", "Authorization: Bearer [redacted]"],
  ])("free text %j is scrubbed", (text, expected) => {
    // Assess
    expect(scrubText(text)).toBe(expected);
  });

  it("an error keeps its name and stack but its message is scrubbed", () => {
    // Prepare
    const { logger, output } = capturingLogger();

    // Act
    logger.error("store failed", { error: new TypeError(`bad value ${PII.email}`) });

    // Assess
    const line = JSON.parse(output()) as { error: { errorName: string; message: string; stack: string } };
    expect(line.error).toMatchObject({ errorName: "TypeError", message: "bad value [email]" });
    expect(line.error.stack).toContain("redaction.test.ts");
  });

  it.each<[string, Record<string, unknown>]>([
    ["a pseudonymous user key", { userKey: `u_${"c".repeat(32)}` }],
    ["codes and numbers", { route: "activate", outcome: "ok", latencyMs: 12.5, priority: 10, eventType: "customer.subscription.updated" }],
    ["a device id", { deviceId: "phone-1" }],
  ])("%s is kept: operators need it", (_name, fields) => {
    // Prepare
    const { logger, output } = capturingLogger();

    // Act
    logger.info("ok", fields);

    // Assess
    expect(JSON.parse(output())).toMatchObject(fields);
  });
});
