/**
 * The paysync device protocol in memory, for one user, as a `fetch` function: devices, push
 * (exactly once by opId, conflicts on manual tiers, tier limits), pull (bootstrap snapshot then
 * feed, purge → 410), conflicts, signed entitlements with ETag/304 and a JWKS, crisis resources
 * and activation. Faults are injected per route: an error status, a dropped connection before or
 * after the server did the work, a hung request (until the client aborts), a delay.
 */
import type { webcrypto } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { SyncPushRequestSchema } from "@paysync/core/api";
import { classifyOp, laneFor } from "@paysync/core/sync/priority";
import type { EntityType } from "@paysync/core/sync/entities";
import { featureFlagsFor, policyFor, type Tier } from "@paysync/core/tiers";
import type { FetchInit, FetchLike, ResponseLike } from "@paysync/client/platform";
import type { FakeClock } from "./clock.js";

export type Route =
  | "devices" | "push" | "pull" | "conflicts" | "resolve_conflict" | "entitlements" | "jwks" | "resources" | "activate" | "crisis_resolve"
  | "safety_plan" | "contacts";

export type Fault =
  | { kind: "status"; status: number; code?: string; details?: unknown; retryAfter?: number }
  /** The server does the work, then the connection drops before the answer arrives. */
  | { kind: "drop_after" }
  /** The connection fails before the server sees the request. */
  | { kind: "network" }
  /** No answer until the client aborts. */
  | { kind: "hang" }
  | { kind: "delay"; ms: number };

interface ServerEntity {
  entityType: string;
  entityId: string;
  version: number;
  payload: unknown;
  deleted: boolean;
  priority: number;
}

interface FeedChange {
  seq: number;
  entityType: string;
  entityId: string;
  version: number;
  action: "upsert" | "delete";
  payload: unknown;
  priority: number;
  originDeviceId: string | null;
}

export interface RecordedRequest {
  route: Route | "unknown";
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  at: number;
  gzip: boolean;
}

const SERVER_ORIGINATED = new Set(["payment_state", "feature_flags", "sync_policy", "crisis_directory"]);
const CRISIS_ROUTES = new Set<Route>(["resources", "activate", "crisis_resolve", "safety_plan", "contacts"]);

const b64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString("base64url");

export class FakePaysyncServer {
  readonly requests: RecordedRequest[] = [];
  readonly devices = new Map<string, unknown>();
  readonly entities = new Map<string, ServerEntity>();
  readonly feed: FeedChange[] = [];
  /** How many times each opId was applied (exactly-once means never more than 1). */
  readonly applyCount = new Map<string, number>();
  readonly conflicts: Array<Record<string, unknown>> = [];
  readonly activations: Array<{ deviceId: string; level: string; source: string; at: number }> = [];
  private readonly faults: Array<{ route: Route; fault: Fault }> = [];
  private seq = 0;
  supported = { min: 1, max: 1 };
  minIntervalMs = 1_000;
  /** Largest pull page the server gives whatever the limit. */
  maxPage = 500;
  /** Cursors at or below this seq are gone (retention): 410. */
  purgedThrough = 0;
  /** Tier limits: ops below priority 8 are refused with this Retry-After (s). */
  limitRetryAfter: number | null = null;
  manualConflicts = false;
  /** Round-trip time of a request, from its op count or page size. */
  latency: (route: Route, items: number) => number = () => 0;
  tier: Tier = "premium";
  entitlementsVersion = 1;
  tamper = false;
  /** Answer entitlements unsigned and without an ETag, as the server does while signing fails. */
  unsigned = false;
  /** How far the server's clock is ahead of the device's (signed times use it). */
  skewMs = 0;
  directoryVersion = 1;
  crisisMode = { active: false, level: null as string | null, source: null as string | null, activatedAt: null as string | null };

  private constructor(
    private readonly clock: FakeClock,
    private readonly key: webcrypto.CryptoKeyPair,
    private readonly jwk: webcrypto.JsonWebKey,
  ) {}

  static async create(clock: FakeClock): Promise<FakePaysyncServer> {
    const key = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const jwk = await crypto.subtle.exportKey("jwk", key.publicKey);
    return new FakePaysyncServer(clock, key, jwk);
  }

  /** The next `times` requests of `route` meet this fault. */
  fail(route: Route, fault: Fault, times = 1): this {
    for (let i = 0; i < times; i += 1) this.faults.push({ route, fault });
    return this;
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  count(route: Route): number {
    return this.requests.filter((r) => r.route === route).length;
  }

  /** Another of the user's devices writes (applied at once, fed to every other device). */
  remoteWrite(deviceId: string | null, entityType: string, entityId: string, payload: unknown, action: "upsert" | "delete" = "upsert"): FeedChange {
    const key = `${entityType}/${entityId}`;
    const current = this.entities.get(key);
    const priority = SERVER_ORIGINATED.has(entityType) ? 7 : classifyOp(entityType as EntityType, payload);
    const entity: ServerEntity = { entityType, entityId, version: (current?.version ?? 0) + 1, payload: action === "delete" ? null : payload, deleted: action === "delete", priority };
    this.entities.set(key, entity);
    const change: FeedChange = { seq: ++this.seq, entityType, entityId, version: entity.version, action, payload: entity.payload, priority, originDeviceId: deviceId };
    this.feed.push(change);
    return change;
  }

  serverChange(entityType: string, entityId: string, payload: unknown): FeedChange {
    return this.remoteWrite(null, entityType, entityId, payload);
  }

  /** Forgets a stored entity without a feed entry (as if purged): only a rebuild notices. */
  dropEntity(entityType: string, entityId: string): void {
    this.entities.delete(`${entityType}/${entityId}`);
  }

  get lastSeq(): number {
    return this.seq;
  }

  readonly fetch: FetchLike = (url, init) => this.handle(url, init);

  private async handle(url: string, init: FetchInit): Promise<ResponseLike> {
    const parsed = new URL(url);
    const headers = Object.fromEntries(Object.entries(init.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const route = routeOf(init.method, parsed.pathname);
    const gzip = headers["content-encoding"] === "gzip";
    let body: unknown;
    if (init.body !== undefined) {
      const text = typeof init.body === "string" ? init.body : gzip ? gunzipSync(init.body).toString("utf8") : Buffer.from(init.body).toString("utf8");
      body = JSON.parse(text);
    }
    this.requests.push({ route: route ?? "unknown", method: init.method, path: parsed.pathname, query: parsed.searchParams, headers, body, at: this.clock.now(), gzip });
    if (!route) return json(404, { error: { code: "not_found", message: "no route" } });

    const faultIndex = this.faults.findIndex((f) => f.route === route);
    const fault = faultIndex >= 0 ? this.faults.splice(faultIndex, 1)[0]!.fault : null;
    if (fault?.kind === "network") throw new TypeError("fetch failed: connection refused");
    if (fault?.kind === "hang") return this.hang(init.signal);
    const items = route === "push" ? ((body as { ops?: unknown[] })?.ops?.length ?? 0) : Number(parsed.searchParams.get("limit") ?? 0);
    const delay = (fault?.kind === "delay" ? fault.ms : 0) + this.latency(route, items);
    if (delay > 0) await this.sleep(delay, init.signal);
    if (fault?.kind === "status") {
      const extra: Record<string, string> = fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {};
      return json(fault.status, { error: { code: fault.code ?? `status_${fault.status}`, message: "injected", ...(fault.details !== undefined ? { details: fault.details } : {}) } }, extra);
    }
    if (route !== "jwks" && !/^Bearer token-/.test(headers.authorization ?? "")) return json(401, { error: { code: "unauthorized", message: "token" } });
    const version = Number(headers["x-paysync-protocol"]);
    if (!CRISIS_ROUTES.has(route) && route !== "jwks" && !(version >= this.supported.min && version <= this.supported.max)) {
      return json(426, { error: { code: "protocol_unsupported", message: "upgrade", details: { supported: this.supported } } });
    }
    const response = await this.route(route, parsed.searchParams, headers, body);
    if (fault?.kind === "drop_after") throw new TypeError("fetch failed: socket hang up");
    return response;
  }

  private route(route: Route, query: URLSearchParams, headers: Record<string, string>, body: unknown): Promise<ResponseLike> | ResponseLike {
    const deviceId = headers["x-device-id"] ?? "";
    switch (route) {
      case "devices": {
        const existed = this.devices.has((body as { deviceId: string }).deviceId);
        this.devices.set((body as { deviceId: string }).deviceId, body);
        return json(existed ? 200 : 201, { ...(body as object), registeredAt: new Date(this.clock.now()).toISOString() });
      }
      case "push":
        return this.push(deviceId, body);
      case "pull":
        return this.pull(deviceId, query);
      case "conflicts":
        return json(200, { conflicts: this.conflicts });
      case "resolve_conflict": {
        const id = /conflicts\/([^/]+)\/resolve/.exec(this.requests.at(-1)!.path)![1]!;
        const index = this.conflicts.findIndex((c) => c.id === id);
        if (index < 0) return json(409, { error: { code: "conflict", message: "resolved already" } });
        const [conflict] = this.conflicts.splice(index, 1) as Array<{ entityType: string; entityId: string; incoming: { payload: unknown } }>;
        const { resolution, payload } = body as { resolution: string; payload?: unknown };
        if (resolution !== "keep_current") this.remoteWrite(deviceId, conflict!.entityType, conflict!.entityId, resolution === "merge" ? payload : conflict!.incoming.payload);
        const version = this.entities.get(`${conflict!.entityType}/${conflict!.entityId}`)!.version;
        return json(200, { id, entityType: conflict!.entityType, entityId: conflict!.entityId, resolution, version });
      }
      case "entitlements":
        return this.entitlements(headers);
      case "jwks":
        return json(200, { keys: [{ ...this.jwk, kid: "k1", alg: "ES256", use: "sig" }, { kty: "RSA", kid: "r1", n: "x", e: "AQAB" }] });
      case "resources":
        return this.resources(headers);
      case "activate": {
        // As the real crisis route: the device must be the caller's.
        if (!this.devices.has((body as { deviceId: string }).deviceId)) return json(404, { error: { code: "not_found", message: "device" } });
        const { level, source } = body as { level: string; source: string };
        this.activations.push({ deviceId: (body as { deviceId: string }).deviceId, level, source, at: this.clock.now() });
        this.crisisMode = { active: true, level, source, activatedAt: new Date(this.clock.now()).toISOString() };
        return json(200, this.resourcesBody());
      }
      case "safety_plan":
      case "contacts": {
        if (!headers["x-device-id"]) return json(400, { error: { code: "validation_error", message: "X-Device-Id is required" } });
        const entityType = route === "safety_plan" ? "safety_plan" : "emergency_contacts";
        const change = this.remoteWrite(headers["x-device-id"] ?? null, entityType, "current", body);
        return json(200, { entityType, version: change.version, priority: 10, updatedAt: new Date(this.clock.now()).toISOString() });
      }
      case "crisis_resolve":
        this.crisisMode = { active: false, level: null, source: null, activatedAt: null };
        return json(200, { crisisMode: this.crisisMode });
    }
  }

  private push(deviceId: string, body: unknown): ResponseLike {
    if (!this.devices.has(deviceId)) return json(404, { error: { code: "not_found", message: "device" } });
    const parsed = SyncPushRequestSchema.safeParse(body);
    if (!parsed.success) return json(400, { error: { code: "validation_error", message: "invalid", details: parsed.error.issues } });
    const tooLarge = parsed.data.ops.filter((op) => JSON.stringify(op.payload ?? null).length > 256 * 1024);
    if (tooLarge.length > 0) {
      return json(413, { error: { code: "payload_too_large", message: "too large", details: { ops: tooLarge.map((op) => ({ opId: op.opId, bytes: 0, maxBytes: 262144 })) } } });
    }
    const results = parsed.data.ops.map((op) => {
      const priority = classifyOp(op.entityType, op.payload);
      const lane = laneFor(priority);
      if (this.applyCount.has(op.opId)) return { opId: op.opId, status: "duplicate" as const, priority, lane };
      if (this.limitRetryAfter !== null && priority < 8) return { opId: op.opId, status: "rejected" as const, priority, lane, reason: "limit_exceeded:offline_queue" };
      const current = this.entities.get(`${op.entityType}/${op.entityId}`);
      if (this.manualConflicts && current && current.version !== op.baseVersion && priority < 9) {
        this.applyCount.set(op.opId, 0);
        const at = new Date(this.clock.now()).toISOString();
        this.conflicts.push({
          id: op.opId, entityType: op.entityType, entityId: op.entityId,
          current: { version: current.version, payload: current.payload, deviceId: "tablet-1", clientTime: at },
          incoming: { opId: op.opId, baseVersion: op.baseVersion, action: op.action, payload: op.payload ?? null, deviceId, clientTime: op.clientTime },
          detectedAt: at,
        });
        return { opId: op.opId, status: "conflict" as const, priority, lane };
      }
      this.applyCount.set(op.opId, (this.applyCount.get(op.opId) ?? 0) + 1);
      this.remoteWrite(deviceId, op.entityType, op.entityId, op.payload, op.action);
      return { opId: op.opId, status: priority >= 9 ? ("applied" as const) : ("queued" as const), priority, lane };
    });
    const refused = results.filter((r) => r.status === "rejected");
    const retry: Record<string, string> = this.limitRetryAfter !== null ? { "retry-after": String(this.limitRetryAfter) } : {};
    if (refused.length === results.length && refused.length > 0) {
      return json(429, { error: { code: "limit_exceeded", message: "limit", details: { limit: "offline_queue", retryAfterSeconds: this.limitRetryAfter, results } } }, retry);
    }
    return json(200, { results }, refused.length > 0 ? retry : {});
  }

  private pull(deviceId: string, query: URLSearchParams): ResponseLike {
    if (!this.devices.has(deviceId)) return json(404, { error: { code: "not_found", message: "device" } });
    const limit = Math.min(Number(query.get("limit") ?? 100), this.maxPage);
    const cursor = query.get("cursor");
    const page = (changes: unknown[], next: string, hasMore: boolean, phase: "snapshot" | "feed") =>
      json(200, { changes, cursor: next, hasMore, minIntervalMs: this.minIntervalMs, phase });
    const snapMatch = cursor === null ? null : /^s-(\d+)-(\d+)$/.exec(cursor);
    const snap: [number, number] | null = cursor === null ? [0, this.seq] : snapMatch ? [Number(snapMatch[1]), Number(snapMatch[2])] : null;
    if (snap) {
      const [offset, start] = snap;
      const all = [...this.entities.values()].filter((e) => !e.deleted).sort((a, b) => `${a.entityType}/${a.entityId}`.localeCompare(`${b.entityType}/${b.entityId}`));
      const slice = all.slice(offset, offset + limit).map((e) => ({
        seq: start, entityType: e.entityType, entityId: e.entityId, version: e.version, action: "upsert", payload: e.payload,
        priority: e.priority, originDeviceId: null, snapshot: true,
      }));
      const done = offset + limit >= all.length;
      return done ? page(slice, `f-${start}`, this.feedAfter(deviceId, start).length > 0, "feed") : page(slice, `s-${offset + limit}-${start}`, true, "snapshot");
    }
    const feedMatch = /^f-(\d+)$/.exec(cursor ?? "");
    if (!feedMatch) return json(400, { error: { code: "validation_error", message: "Invalid cursor", details: [{ path: ["cursor"] }] } });
    const after = Number(feedMatch[1]);
    if (after < this.purgedThrough) return json(410, { error: { code: "resync_required", message: "purged" } });
    const changes = this.feedAfter(deviceId, after);
    const slice = changes.slice(0, limit);
    const last = slice.at(-1)?.seq ?? after;
    return page(slice, `f-${slice.length < changes.length ? last : Math.max(last, this.seq)}`, slice.length < changes.length, "feed");
  }

  private feedAfter(deviceId: string, seq: number): FeedChange[] {
    return this.feed.filter((c) => c.seq > seq && c.originDeviceId !== deviceId);
  }

  private async entitlements(headers: Record<string, string>): Promise<ResponseLike> {
    const etag = `"e${this.entitlementsVersion}-${this.tier}"`;
    if (headers["if-none-match"] === etag) return { status: 304, headers: headerMap({ etag }), text: async () => "" };
    const now = this.clock.now() + this.skewMs;
    const claims = {
      tier: this.tier, status: this.tier === "free" ? "none" : "active", graceEndsAt: null, featureFlags: featureFlagsFor(this.tier),
      policy: policyFor(this.tier), crisisAccess: true, paymentCurrent: true, refreshAfter: new Date(now + 5 * 60_000).toISOString(),
      validUntil: new Date(now + 7 * 86_400_000).toISOString(), billingIssueDetectedAt: null,
    };
    if (this.unsigned) return json(200, claims);
    const signed = await this.sign({ ...claims, iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 7 * 86_400 });
    return json(200, { ...claims, signedEntitlements: signed }, { etag });
  }

  /** A compact ES256 JWS with kid `k1`; `tamper` changes one byte of the claims after signing. */
  async sign(claims: Record<string, unknown>, kid = "k1"): Promise<string> {
    const header = b64url(JSON.stringify({ alg: "ES256", kid, typ: "JWT" }));
    const payload = b64url(JSON.stringify(claims));
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.key.privateKey, new TextEncoder().encode(`${header}.${payload}`)));
    if (!this.tamper) return `${header}.${payload}.${b64url(signature)}`;
    const forged = b64url(JSON.stringify({ ...claims, tier: claims.tier === "premium" ? "basic" : "premium" }));
    return `${header}.${forged}.${b64url(signature)}`;
  }

  resourcesBody(): Record<string, unknown> {
    return {
      hotline: { name: "988 Suicide & Crisis Lifeline", call: "988", text: "988", chatUrl: "https://988lifeline.org/chat/" },
      lines: [{ id: "us-988", region: "US" }], directoryVersion: this.directoryVersion, safetyPlan: null, emergencyContacts: [],
      crisisMode: this.crisisMode,
    };
  }

  private resources(headers: Record<string, string>): ResponseLike {
    const etag = `"d${this.directoryVersion}"`;
    if (headers["if-none-match"] === etag) return { status: 304, headers: headerMap({ etag }), text: async () => "" };
    return json(200, this.resourcesBody(), { etag });
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => {
        this.clock.clearTimeout(timer);
        reject(new DOMException("aborted", "AbortError"));
      });
    });
  }

  private hang(signal?: AbortSignal): Promise<ResponseLike> {
    return new Promise((_resolve, reject) => {
      signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
  }
}

function routeOf(method: string, path: string): Route | null {
  if (method === "POST" && path === "/v1/devices") return "devices";
  if (method === "POST" && path === "/v1/sync/push") return "push";
  if (method === "GET" && path === "/v1/sync/pull") return "pull";
  if (method === "GET" && path === "/v1/sync/conflicts") return "conflicts";
  if (method === "POST" && /^\/v1\/sync\/conflicts\/[^/]+\/resolve$/.test(path)) return "resolve_conflict";
  if (method === "GET" && path === "/v1/me/entitlements") return "entitlements";
  if (method === "GET" && path === "/.well-known/jwks.json") return "jwks";
  if (method === "GET" && path === "/v1/crisis/resources") return "resources";
  if (method === "POST" && path === "/v1/crisis/activate") return "activate";
  if (method === "POST" && path === "/v1/crisis/resolve") return "crisis_resolve";
  if (method === "PUT" && path === "/v1/crisis/safety-plan") return "safety_plan";
  if (method === "PUT" && path === "/v1/crisis/contacts") return "contacts";
  return null;
}

function headerMap(headers: Record<string, string>): ResponseLike["headers"] {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name) => lower.get(name.toLowerCase()) ?? null };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): ResponseLike {
  const text = JSON.stringify(body);
  return { status, headers: headerMap({ "content-type": "application/json", ...headers }), text: async () => text };
}
