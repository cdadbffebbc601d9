import { afterEach, describe, expect, it } from "vitest";
import type { PaysyncClient } from "@paysync/client";
import { base64UrlDecode, verifyEs256 } from "@paysync/client/jws";
import { makeClient, world, type World } from "./fakes/harness.js";

const started: PaysyncClient[] = [];
const DAY = 86_400_000;

function client(w: World, overrides: Parameters<typeof makeClient>[1] = {}): PaysyncClient {
  const c = makeClient(w, { realtimeUrl: false, ...overrides });
  started.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

const entitlementCalls = (w: World) => w.server.requests.filter((r) => r.route === "entitlements");

describe("signed entitlements", () => {
  it("a verified answer gives the tier's features; before it, the free tier's with crisis access", async () => {
    // Prepare
    const w = await world();
    const c = client(w);
    const before = c.entitlements();

    // Act
    const after = await c.refreshEntitlements();

    // Assess
    expect(before).toMatchObject({ tier: "free", source: "fallback", fallbackReason: "never_fetched", crisisAccess: true });
    expect(before.featureFlags.enabled).toContain("crisis_button");
    expect(after).toMatchObject({ tier: "premium", source: "verified", crisisAccess: true });
    expect(c.hasFeature("real_time_sync")).toBe(true);
    expect(w.server.count("jwks")).toBe(1);
  });

  it.each([
    { name: "a changed byte in the claims", tamper: (jws: string) => { const [h, p, s] = jws.split("."); return `${h}.${p!.slice(0, -2)}${p!.slice(-2) === "fQ" ? "fX" : "fQ"}.${s}`; } },
    { name: "a changed byte in the signature", tamper: (jws: string) => { const [h, p, s] = jws.split("."); return `${h}.${p}.${s![0] === "A" ? "B" : "A"}${s!.slice(1)}`; } },
    { name: "another algorithm", tamper: (jws: string) => { const [, p, s] = jws.split("."); return `${Buffer.from(JSON.stringify({ alg: "HS256", kid: "k1" })).toString("base64url")}.${p}.${s}`; } },
    { name: "an unknown key", tamper: (jws: string) => { const [, p, s] = jws.split("."); return `${Buffer.from(JSON.stringify({ alg: "ES256", kid: "nope" })).toString("base64url")}.${p}.${s}`; } },
  ])("$name fails verification", async ({ tamper }) => {
    // Prepare
    const w = await world();
    const jws = await w.server.sign({ tier: "premium" });
    const keys = (await (await w.server.fetch("http://x/.well-known/jwks.json", { method: "GET", headers: {} })).text());
    const jwk = (JSON.parse(keys) as { keys: Array<{ kid: string }> }).keys.find((k) => k.kid === "k1") as never;

    // Act
    const good = await verifyEs256(jws, (kid) => (kid === "k1" ? jwk : undefined), crypto.subtle as never);
    const bad = await verifyEs256(tamper(jws), (kid) => (kid === "k1" ? jwk : undefined), crypto.subtle as never);

    // Assess
    expect(good.ok).toBe(true);
    expect(bad.ok).toBe(false);
  });

  it("an answer whose signature does not verify falls back to the free tier, never below crisis access", async () => {
    // Prepare
    const w = await world();
    w.server.tamper = true;
    const c = client(w);

    // Act
    const e = await c.refreshEntitlements();

    // Assess
    expect(e).toMatchObject({ tier: "free", source: "fallback", fallbackReason: "unverified", crisisAccess: true });
    expect(e.featureFlags.enabled).toEqual(["basic_check_in", "phq9_assessment", "gad7_assessment", "crisis_button", "breathing_exercises"]);
    expect(c.hasFeature("real_time_sync")).toBe(false);
  });

  it("an unsigned answer (the server could not sign) grants nothing and keeps what was verified before", async () => {
    // Prepare
    const w = await world();
    const verifiedFirst = client(w);
    await verifiedFirst.refreshEntitlements();
    // A new state (a new ETag), answered unsigned: its body says basic, which must not count.
    w.server.unsigned = true;
    w.server.tier = "basic";
    w.server.entitlementsVersion++;
    const neverVerified = client(w);

    // Act
    const kept = await verifiedFirst.refreshEntitlements().then(() => "resolved", (error: { code?: string }) => error.code);
    const fresh = await neverVerified.refreshEntitlements().then(() => "resolved", (error: { code?: string }) => error.code);

    // Assess
    expect([kept, fresh]).toEqual(["entitlements_unsigned", "entitlements_unsigned"]);
    expect(verifiedFirst.entitlements()).toMatchObject({ tier: "premium", source: "verified" });
    expect(neverVerified.entitlements()).toMatchObject({ tier: "free", source: "fallback", crisisAccess: true });
  });

  it("is cached: a new instance offline keeps the verified tier until validUntil, then falls back", async () => {
    // Prepare
    const w = await world();
    await client(w).refreshEntitlements();
    w.server.fail("entitlements", { kind: "network" }, 100_000);
    w.server.minIntervalMs = DAY;

    // Act (retries of a long outage are spaced out to keep virtual time cheap)
    const offline = client(w, { backoff: { baseMs: 60_000, capMs: DAY } });
    await offline.start();
    await w.clock.advance(1_000);
    const soon = offline.entitlements();
    await w.clock.advance(6 * DAY);
    const sixDays = offline.entitlements();
    await w.clock.advance(DAY);
    const past = offline.entitlements();

    // Assess
    expect(soon).toMatchObject({ tier: "premium", source: "verified" });
    expect(sixDays).toMatchObject({ tier: "premium", source: "verified" });
    expect(past).toMatchObject({ tier: "free", source: "fallback", fallbackReason: "expired", crisisAccess: true });
  });

  it.each([
    { name: "behind", skewMs: -10 * DAY },
    { name: "ahead", skewMs: 10 * DAY },
  ])("a device clock 10 days $name of the server's keeps the answer for its 7 days, no more", async ({ skewMs }) => {
    // Prepare
    const w = await world();
    w.server.skewMs = skewMs;
    const c = client(w);

    // Act
    await c.refreshEntitlements();
    const fresh = c.entitlements();
    w.server.fail("entitlements", { kind: "network" }, 100_000);
    await w.clock.advance(7 * DAY - 60_000);
    const lastMinute = c.entitlements();
    await w.clock.advance(120_000);
    const after = c.entitlements();

    // Assess
    expect(fresh.source).toBe("verified");
    expect(lastMinute.source).toBe("verified");
    expect(after).toMatchObject({ source: "fallback", fallbackReason: "expired" });
  });

  it("a cache edited on the device grants nothing", async () => {
    // Prepare
    const w = await world();
    w.server.tier = "basic";
    await client(w).refreshEntitlements();
    const cache = w.store.dump()["entitlements/cache"] as { claims: { tier: string } };
    await w.store.write([{ key: "entitlements/cache", value: { ...cache, claims: { ...cache.claims, tier: "premium" } } }]);
    w.server.fail("entitlements", { kind: "network" }, 1_000);

    // Act
    const c = client(w);
    await c.start();

    // Assess
    expect(c.entitlements()).toMatchObject({ tier: "basic", source: "verified" });
  });

  it("asks again after refreshAfter with If-None-Match, and a 304 keeps the verified answer", async () => {
    // Prepare
    const w = await world();
    const c = client(w);
    await c.start();
    await w.clock.until(() => c.entitlements().source === "verified");

    // Act
    await w.clock.advance(4 * 60_000);
    const beforeRefresh = entitlementCalls(w).length;
    await w.clock.advance(2 * 60_000);

    // Assess
    expect(beforeRefresh).toBe(1);
    const calls = entitlementCalls(w);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBe(5 * 60_000);
    expect(calls[1]!.headers["if-none-match"]).toBe('"e1-premium"');
    expect(c.entitlements()).toMatchObject({ tier: "premium", source: "verified" });
  });

  it("a tier change on the feed refreshes at once and the app hears of it", async () => {
    // Prepare
    const w = await world();
    const c = client(w);
    const tiers: string[] = [];
    c.on("entitlements", (e) => tiers.push(`${e.tier}/${e.source}`));
    await c.start();
    await w.clock.until(() => c.entitlements().source === "verified");

    // Act
    w.server.tier = "grace_period";
    w.server.serverChange("payment_state", "current", { tier: "grace_period", status: "past_due", graceEndsAt: null, paymentCurrent: false });
    await w.clock.advance(1_500);
    await w.clock.until(() => c.entitlements().tier === "grace_period", 10_000);

    // Assess
    expect(tiers).toEqual(["free/fallback", "premium/verified", "grace_period/verified"]);
    expect(c.get("payment_state", "current")?.payload).toMatchObject({ status: "past_due" });
  });

  it("refetches the key set for an unknown kid, and skips keys it cannot use", async () => {
    // Prepare
    const w = await world();
    const c = client(w);
    await c.refreshEntitlements();
    await w.store.write([{ key: "entitlements/jwks", value: { keys: [], fetchedAt: 0 } }]);

    // Act
    const again = client(w);
    await again.start();
    await again.refreshEntitlements();

    // Assess
    expect(again.entitlements().source).toBe("verified");
    expect(w.server.count("jwks")).toBe(2);
  });

  it("decodes base64url and refuses characters outside it", () => {
    // Act
    const decoded = base64UrlDecode("aGVsbG8");
    const invalid = base64UrlDecode("aGV+bG8");

    // Assess
    expect(new TextDecoder().decode(decoded!)).toBe("hello");
    expect(invalid).toBeNull();
  });
});
