import type { ScheduledEvent } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { scheduledEvent } from "@paysync/local/scheduler";
import { featureFlagsFor, policyFor } from "@paysync/core/tiers";
import { nowSeconds, paymentsHarness, uid } from "../helpers/payments.js";
import { useRuntime } from "../helpers/runtime.js";
import { checkoutCompletedEvent, invoiceEvent, subscriptionEvent, type InvoiceEventType } from "../helpers/stripe-factories.js";

const rt = useRuntime();
const pay = paymentsHarness(rt);
const DAY_MS = 86_400_000;
const PREMIUM = { priceId: "price_it_premium", priceLookupKey: "premium_monthly" };
type Handler = (event: Partial<ScheduledEvent>) => Promise<{ status: string; expired: number; pages?: number }>;
let graceExpiry: Handler;
type GraceJob = typeof import("@paysync/aws/jobs/grace-expiry");
let runGraceExpiry: (options: Pick<Parameters<GraceJob["runGraceExpiry"]>[0], "now" | "runKey" | "pageSize">) => ReturnType<GraceJob["runGraceExpiry"]>;

beforeAll(async () => {
  // The job runs in this process against the runtime's emulators, with a clock of our choosing.
  Object.assign(process.env, rt.handlerEnv());
  graceExpiry = (await import("../../functions/jobs/grace-expiry.js")).handler as Handler;
  const grace = await import("@paysync/aws/jobs/grace-expiry");
  const { wiring } = await import("@paysync/aws/wiring");
  runGraceExpiry = (options) => grace.runGraceExpiry({ ...options, payments: wiring.paymentApplier(), paymentState: wiring.paymentState(), audit: wiring.audit() });
});

/** A premium customer whose renewal failed `t + 100`: in grace until `graceEndsAt`. */
async function inGrace(deviceIds: string[] = []) {
  const c = { customer: uid("cus"), userId: uid("user"), t: nowSeconds() - 3_600 };
  const invoice = (type: InvoiceEventType, dt: number) =>
    invoiceEvent({ type, customer: c.customer, subscription: "sub_grace", shape: "current", created: c.t + dt, id: uid("evt"), ...PREMIUM });
  await pay.registerDevices(c.userId, deviceIds);
  await pay.deliver(
    checkoutCompletedEvent({ customer: c.customer, clientReferenceId: c.userId, created: c.t, id: uid("evt") }),
    subscriptionEvent({ type: "customer.subscription.created", status: "active", customer: c.customer, created: c.t + 10, id: uid("evt"), ...PREMIUM }),
    invoice("invoice.payment_failed", 100),
  );
  await pay.laneDrained();
  return { ...c, invoice, graceEndsAt: (c.t + 100) * 1000 + 14 * DAY_MS };
}

const tick = (atMs: number) => scheduledEvent("GraceExpiry", new Date(atMs));

describe("grace expiry job", () => {
  it("moves a user whose grace ran out to free and tells every device; a second run changes nothing", async () => {
    // Prepare
    const devices = [uid("phone"), uid("tablet")];
    const c = await inGrace(devices);

    // Act
    const early = await graceExpiry(tick(c.graceEndsAt - 60_000));
    const stillInGrace = await pay.entitlements(c.userId);
    const due = await graceExpiry(tick(c.graceEndsAt + 60_000));
    const afterDue = { state: await pay.storedState(c.userId), feed: await pay.feedOf(c.userId, devices[0]!) };
    const again = await graceExpiry(tick(c.graceEndsAt + 120_000));
    const sameTick = await graceExpiry(tick(c.graceEndsAt + 120_000));

    // Assess
    expect(early.status).toBe("completed");
    expect(stillInGrace).toMatchObject({ tier: "grace_period", graceEndsAt: new Date(c.graceEndsAt).toISOString() });
    expect(due).toMatchObject({ status: "completed" });
    expect(due.expired).toBeGreaterThanOrEqual(1);
    expect(await pay.entitlements(c.userId)).toMatchObject({ tier: "free", status: "past_due", graceEndsAt: null, paymentCurrent: false });
    expect(afterDue.state).toMatchObject({ tier: "free" });
    expect(afterDue.state?.gsi1pk).toBeUndefined();
    for (const deviceId of devices) {
      const last = (await pay.feedOf(c.userId, deviceId)).slice(-3);
      expect(last.map((f) => [f.entityType, f.priority, f.originDeviceId, f.payload])).toEqual([
        ["payment_state", 7, "server", { tier: "free", status: "past_due", graceEndsAt: null, paymentCurrent: false }],
        ["feature_flags", 7, "server", featureFlagsFor("free")],
        ["sync_policy", 7, "server", policyFor("free")],
      ]);
    }
    expect(again).toMatchObject({ status: "completed", expired: 0 });
    expect(sameTick).toMatchObject({ status: "already_completed" });
    expect({ state: await pay.storedState(c.userId), feed: await pay.feedOf(c.userId, devices[0]!) }).toEqual(afterDue);
  });

  it("a late, older failure does not reopen an expired grace; a new payment restores the tier", async () => {
    // Prepare
    const c = await inGrace();
    await graceExpiry(tick(c.graceEndsAt + 60_000));

    // Act
    await pay.deliver(c.invoice("invoice.payment_failed", 50));
    await pay.laneDrained();
    const afterLate = await pay.entitlements(c.userId);
    await pay.deliver(c.invoice("invoice.payment_succeeded", 200));
    await pay.laneDrained();

    // Assess
    expect(afterLate.tier).toBe("free");
    expect(await pay.entitlements(c.userId)).toMatchObject({ tier: "premium", status: "active", paymentCurrent: true });
  });

  it("pages through many due users, resuming the index after users it removed", async () => {
    // Prepare
    const users = await Promise.all([inGrace(), inGrace(), inGrace()]);
    const now = new Date(Math.max(...users.map((u) => u.graceEndsAt)) + 60_000);

    // Act
    const outcome = await runGraceExpiry({ now, runKey: `paging-${now.toISOString()}`, pageSize: 1 });

    // Assess
    expect(outcome.status).toBe("completed");
    expect(outcome.status === "completed" && outcome.pages).toBeGreaterThanOrEqual(3);
    for (const user of users) expect((await pay.storedState(user.userId))?.tier).toBe("free");
  });
});
