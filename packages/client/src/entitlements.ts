/**
 * What the user may use, as the server signed it (SPEC 3.1). The answer of
 * `GET /v1/me/entitlements` is trusted only through its `signedEntitlements` (ES256, verified
 * against `/.well-known/jwks.json`, keys cached and refetched on an unknown `kid`); the verified
 * claims are cached durably, asked again after `refreshAfter` (with `If-None-Match`; `304` keeps
 * them), and used offline until `validUntil`. Without a verified, unexpired answer the client
 * falls back to the free tier's features — crisis access is never part of what can be lost.
 *
 * @example
 * const { tier, featureFlags, source } = entitlements.current();
 */
import { featureFlagsFor, policyFor, type Feature } from "@paysync/core/tiers";
import { Backoff, type BackoffPolicy } from "./backoff.js";
import { PaysyncClientError, PaysyncHttpError, UpgradeRequiredError } from "./errors.js";
import { es256Keys, verifyEs256 } from "./jws.js";
import type { Clock, SubtleLike } from "./platform.js";
import { EntitlementClaimsSchema, EntitlementsSchema, JwksSchema, type EntitlementClaims, type Jwk } from "./protocol.js";
import { Runner } from "./runner.js";
import type { ClientStore } from "./store/store.js";
import type { Transport } from "./transport.js";

export type EntitlementsSource =
  /** Verified claims, within `validUntil`. */
  | "verified"
  /** No usable answer: the free tier's features (and crisis access). */
  | "fallback";

export type FallbackReason = "never_fetched" | "expired" | "unverified" | "no_webcrypto";

export interface Entitlements extends Omit<EntitlementClaims, "iat" | "exp"> {
  source: EntitlementsSource;
  /** Why the client fell back, when it did. */
  fallbackReason: FallbackReason | null;
  /** When the claims were fetched (client clock), null for the fallback. */
  fetchedAt: number | null;
}

interface Cached {
  claims: EntitlementClaims;
  signed: string;
  etag: string | null;
  fetchedAt: number;
  /** Client time of the next refresh. */
  refreshAt: number;
}

interface KeySet {
  keys: Jwk[];
  fetchedAt: number;
}

const CACHE_KEY = "entitlements/cache";
const JWKS_KEY = "entitlements/jwks";
const MIN_REFRESH_MS = 60_000;
const DEFAULT_REFRESH_MS = 5 * 60_000;
/** Ask for a freshly signed answer (no `If-None-Match`) when the cached one expires this soon. */
const RENEW_BEFORE_MS = 24 * 60 * 60_000;
const JWKS_REFETCH_MIN_MS = 60_000;

export interface EntitlementsDeps {
  store: ClientStore;
  transport: Transport;
  clock: Clock;
  random: () => number;
  subtle: SubtleLike | null;
  backoff: BackoffPolicy;
  timeoutMs: number;
  onChange: (entitlements: Entitlements) => void;
  onUpgradeRequired: (error: UpgradeRequiredError) => void;
  onError: (error: unknown) => void;
}

export class EntitlementsManager {
  private cached: Cached | null = null;
  private unverified = false;
  private keys: KeySet | null = null;
  private readonly runner: Runner;
  private readonly backoff: Backoff;
  private holdUntil = 0;
  private stopped = true;
  private last: string | null = null;

  constructor(private readonly deps: EntitlementsDeps) {
    this.backoff = new Backoff(deps.backoff, deps.random);
    this.runner = new Runner(deps.clock, () => this.step(), deps.onError);
  }

  /** Loads the cache and checks its signature again: a store edited by hand grants nothing. */
  async load(): Promise<void> {
    const [cached, keys] = await Promise.all([this.deps.store.get<Cached>(CACHE_KEY), this.deps.store.get<KeySet>(JWKS_KEY)]);
    this.keys = keys ?? null;
    if (cached && this.deps.subtle) {
      const claims = await this.verify(cached.signed, false);
      this.cached = claims ? { ...cached, claims } : null;
    }
    this.announce();
  }

  start(): void {
    this.stopped = false;
    this.runner.restart();
    this.runner.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.runner.stop();
  }

  /** Refresh soon (the server announced a tier change on the feed). */
  invalidate(): void {
    if (this.cached) this.cached = { ...this.cached, refreshAt: 0 };
    this.holdUntil = 0;
    this.runner.kick();
  }

  current(): Entitlements {
    const now = this.deps.clock.now();
    const cached = this.cached;
    if (cached && now < expiresAt(cached)) {
      const { iat: _iat, exp: _exp, ...claims } = cached.claims;
      return { ...claims, source: "verified", fallbackReason: null, fetchedAt: cached.fetchedAt };
    }
    const reason: FallbackReason = !this.deps.subtle ? "no_webcrypto" : this.unverified ? "unverified" : cached ? "expired" : "never_fetched";
    return fallback(now, reason, cached?.claims);
  }

  hasFeature(feature: Feature): boolean {
    return (this.current().featureFlags.enabled as readonly string[]).includes(feature);
  }

  /** Asks the server now; answers what the app may use afterwards. */
  async refresh(): Promise<Entitlements> {
    const now = this.deps.clock.now();
    const cached = this.cached;
    const conditional = cached?.etag && expiresAt(cached) - now > RENEW_BEFORE_MS;
    const answer = await this.deps.transport.request({
      method: "GET", path: "/v1/me/entitlements", timeoutMs: this.deps.timeoutMs,
      ...(conditional ? { headers: { "if-none-match": cached.etag! } } : {}),
    });
    if (answer.status === 304 && cached) {
      this.cached = { ...cached, refreshAt: now + refreshInterval(cached) };
    } else {
      const body = EntitlementsSchema.parse(answer.body);
      // The server could not sign: a failed refresh, not a verdict. What was verified before
      // stays until it expires; the step retries with backoff.
      if (body.signedEntitlements === undefined) throw new PaysyncClientError("entitlements_unsigned", "The server answered without a signature");
      const claims = await this.verify(body.signedEntitlements, true);
      if (!claims) {
        // A signature that does not check out is worth nothing, whatever the body says.
        this.unverified = true;
        this.cached = null;
        await this.deps.store.write([{ key: CACHE_KEY, delete: true }]);
        this.announce();
        return this.current();
      }
      this.unverified = false;
      // Server times are read relative to the claims' `iat`, so a device clock that is off by
      // hours neither expires the answer early nor keeps it late.
      const refreshIn = (Date.parse(claims.refreshAfter) || claims.iat * 1000 + DEFAULT_REFRESH_MS) - claims.iat * 1000;
      const refreshAt = now + Math.max(MIN_REFRESH_MS, refreshIn);
      this.cached = { claims, signed: body.signedEntitlements, etag: answer.headers.get("etag"), fetchedAt: now, refreshAt };
    }
    await this.deps.store.write([{ key: CACHE_KEY, value: this.cached }]);
    this.announce();
    return this.current();
  }

  private async step(): Promise<number | null> {
    if (this.stopped) return null;
    const now = this.deps.clock.now();
    if (now < this.holdUntil) return this.holdUntil - now;
    const due = this.cached?.refreshAt ?? 0;
    if (now < due) return this.nextWake(due - now);
    try {
      await this.refresh();
      this.backoff.reset();
      const at = this.deps.clock.now();
      return this.nextWake((this.cached?.refreshAt ?? at + DEFAULT_REFRESH_MS) - at);
    } catch (error) {
      if (error instanceof UpgradeRequiredError) {
        this.deps.onUpgradeRequired(error);
        return null;
      }
      this.deps.onError(error);
      const wait = error instanceof PaysyncHttpError && error.retryAfterMs !== null ? error.retryAfterMs : this.backoff.next();
      this.holdUntil = now + wait;
      return wait;
    } finally {
      this.announce();
    }
  }

  /** Wakes for the refresh, or earlier when the cache expires first (to announce the fallback). */
  private nextWake(untilRefresh: number): number {
    const expiry = this.cached ? expiresAt(this.cached) - this.deps.clock.now() : Number.POSITIVE_INFINITY;
    return Math.max(0, Math.min(untilRefresh, expiry > 0 ? expiry : untilRefresh));
  }

  /** The claims if the JWS verifies with a known key (refetching the set once for an unknown kid). */
  private async verify(signed: string, mayFetchKeys: boolean): Promise<EntitlementClaims | null> {
    const subtle = this.deps.subtle;
    if (!subtle) return null;
    const result = await verifyEs256(signed, (kid) => this.keyFor(kid, mayFetchKeys), subtle);
    if (!result.ok) return null;
    const claims = EntitlementClaimsSchema.safeParse(result.claims);
    return claims.success && claims.data.crisisAccess === true ? claims.data : null;
  }

  private async keyFor(kid: string, mayFetch: boolean): Promise<Jwk | undefined> {
    const known = this.keys?.keys.find((k) => k.kid === kid);
    if (known || !mayFetch) return known;
    const now = this.deps.clock.now();
    if (this.keys && now - this.keys.fetchedAt < JWKS_REFETCH_MIN_MS && this.keys.keys.length > 0) return undefined;
    const answer = await this.deps.transport.request({ method: "GET", path: "/.well-known/jwks.json", auth: false, timeoutMs: this.deps.timeoutMs });
    const set = JwksSchema.parse(answer.body);
    this.keys = { keys: es256Keys(set.keys), fetchedAt: now };
    await this.deps.store.write([{ key: JWKS_KEY, value: this.keys }]);
    return this.keys.keys.find((k) => k.kid === kid);
  }

  /** Emits when what the app may use has changed. */
  private announce(): void {
    const current = this.current();
    const fingerprint = JSON.stringify({ ...current, fetchedAt: null });
    if (fingerprint === this.last) return;
    this.last = fingerprint;
    this.deps.onChange(current);
  }
}

/** Client time until which the cached claims may be used: their validity, counted from when they were fetched. */
function expiresAt(cached: Cached): number {
  const { claims } = cached;
  const validUntil = Date.parse(claims.validUntil);
  const serverExpiry = Math.min(Number.isNaN(validUntil) ? 0 : validUntil, claims.exp * 1000);
  return cached.fetchedAt + Math.max(0, serverExpiry - claims.iat * 1000);
}

function refreshInterval(cached: Cached): number {
  return Math.max(MIN_REFRESH_MS, cached.refreshAt - cached.fetchedAt || DEFAULT_REFRESH_MS);
}

/** The free tier's features; crisis access always. */
export function fallback(now: number, reason: FallbackReason, last?: EntitlementClaims): Entitlements {
  return {
    tier: "free",
    status: last?.status ?? "none",
    graceEndsAt: null,
    featureFlags: featureFlagsFor("free"),
    policy: policyFor("free"),
    crisisAccess: true,
    paymentCurrent: last?.paymentCurrent ?? true,
    billingIssueDetectedAt: last?.billingIssueDetectedAt ?? null,
    refreshAfter: new Date(now).toISOString(),
    validUntil: new Date(now).toISOString(),
    source: "fallback",
    fallbackReason: reason,
    fetchedAt: null,
  };
}
