import { assessment, crisis, deviceIdFor, devicesRegister, newId, ops, pull, push, type Context, type Output } from "./commands.js";
import { CliError } from "./service.js";
import { stripe } from "./stripe-commands.js";

/**
 * `npx paysync demo`: the walk-through a new user runs first. One user, two devices, a premium
 * subscription, a mood entry synced across devices, an assessment over the crisis threshold, the
 * crisis button, a failed payment (grace period, crisis still open), recovery, and the way to
 * the dashboard where all of it shows up.
 */
type Step = [title: string, run: () => Promise<Output> | Output];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pulls on the tablet until the phone's entry arrives (the op goes through a queue). */
async function pullUntil(ctx: Context, entityId: string): Promise<Output> {
  const deadline = Date.now() + 15_000;
  const seen: string[] = [];
  for (;;) {
    try {
      const page = await pull(ctx);
      seen.push(...page.lines.slice(1, -1).map((line) => line.trimStart()));
      const changes = (page.data as { changes: Array<{ entityId: string }> }).changes;
      if (changes.some((c) => c.entityId === entityId)) return { data: page.data, lines: [...seen, page.lines.at(-1) ?? ""] };
    } catch (error) {
      if (!(error instanceof CliError) || !/HTTP 429/.test(error.message)) throw error;
    }
    if (Date.now() > deadline) throw new CliError(`the tablet did not receive ${entityId} within 15 s`);
    await sleep(1_100); // premium's minimum pull interval is 1 s
  }
}

export async function demo(base: Context): Promise<Output> {
  const user = typeof base.options.user === "string" ? base.user : newId("demo");
  // Device ids are global (one belongs to one user), so they carry the user's name.
  const phone = deviceIdFor(user, "phone");
  const tablet = deviceIdFor(user, "tablet");
  const on = (device: string, options: Context["options"] = {}, positionals: string[] = []): Context =>
    ({ ...base, user, device, options: { ...options, user }, positionals });
  const moodId = newId("mood");
  const steps: Step[] = [
    [`${user} registers a phone and a tablet`, async () => {
      const [a, b] = [await devicesRegister(on(phone, { platform: "ios" })), await devicesRegister(on(tablet, { platform: "android" }))];
      return { data: [a.data, b.data], lines: [...a.lines, ...b.lines] };
    }],
    ["Stripe: checkout for premium (signed webhooks from the fixtures)", () => stripe(on(phone, { tier: "premium" }), "subscribe")],
    ["The phone writes a mood entry (queued on a lane by priority)", () => push(on(phone, { type: "mood_entry", entity: moodId, payload: JSON.stringify({ mood: 4, note: "better after a walk" }) }))],
    ["The tablet pulls and receives it", () => pullUntil(on(tablet), moodId)],
    ["A PHQ-9 with item 9 above zero: scored by the server, crisis priority", () => assessment(on(phone, { instrument: "PHQ-9", answers: "2,2,2,1,1,2,1,1,1" }))],
    ["The crisis button on the phone", () => crisis(on(phone, { level: "high", source: "button" }), "activate")],
    ["Stripe: the renewal payment fails → grace period", () => stripe(on(phone), "fail")],
    ["Crisis resources in the grace period: never behind a payment", () => crisis(on(tablet), "resources")],
    ["Stripe: the payment goes through → premium again", () => stripe(on(phone), "recover")],
    ["The crisis is resolved", () => crisis(on(phone), "resolve")],
  ];
  const results = [];
  const lines: string[] = [];
  for (const [i, [title, run]] of steps.entries()) {
    const output = await run();
    results.push({ step: i + 1, title, data: output.data });
    lines.push("", `[${i + 1}/${steps.length}] ${title}`, ...output.lines.map((line) => `    ${line}`));
  }
  const dashboard = ops(base);
  lines.push(
    "",
    "Done. Open the dashboard to see the crisis activation, the apply latencies, the webhooks and the audit chain:",
    `    ${(dashboard.data as { url: string }).url}`,
  );
  return { data: { user, steps: results, dashboard: dashboard.data }, lines };
}
