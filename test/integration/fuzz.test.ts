import { BatchGetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { ROUTES } from "@paysync/aws/resources";
import {
  ConflictResolveRequestSchema, CrisisActivateRequestSchema, CrisisResolveRequestSchema, DeviceRegistrationRequestSchema,
  CrisisDirectorySchema, CrisisRegionRequestSchema, EmergencyContactsRequestSchema, HandoffRequestSchema, SafetyPlanSchema, SyncPullQuerySchema, SyncPushRequestSchema,
} from "@paysync/core/api";
import { BUNDLED_DIRECTORY_DATA } from "@paysync/core/crisis/directory-data";
import { extractStripeFacts } from "@paysync/core/payments";
import { assertCrisisPayloads, assertPayloadSizes, checkOpPayloadSize, decodeCursor, planPush } from "@paysync/core/sync";
import {
  badId, garbageBytes, headerValue, mutated, pathSegment, randomJsonBody, rawRequest, withDeepNesting, withHugeString,
  OVERSIZED_BODY_BYTES, type WireBody,
} from "../helpers/fuzz-inputs.js";
import { check, expectRefused, partition } from "../helpers/fuzz-checks.js";
import { useRuntime } from "../helpers/runtime.js";
import { makeOp, syncClient } from "../helpers/sync.js";
import { CRISIS_DIRECTORY_CURRENT_KEY, feedPartition, STRIPE_EVENT_PREFIX, stripeEventKey, userPartition } from "@paysync/aws/store/keys";

/**
 * Bad input of any kind gets a clear 4xx and changes nothing (SPEC.md §5), on every route of
 * `ROUTES`: fast-check generates the requests; each family of them runs between two snapshots
 * of the user's raw items. Every answer is the API's `{error: {code, message}}`, what the local
 * gateway refuses before any function runs included (400 malformed URL, 401, 404 unknown route,
 * 405, 413 over 6 MiB, 431). FUZZ_RUNS sets the runs per family (default 25),
 * FUZZ_SEED replays a reported failure.
 */
const rt = useRuntime();
const sync = syncClient(rt);

type Sync = typeof sync;
let user: Awaited<ReturnType<Sync["user"]>>;
let stranger: Awaited<ReturnType<Sync["user"]>>;
let conflictId: string;
const phone = () => user.devices.phone!;
const tablet = () => user.devices.tablet!;

const CLIENT_TIME = "2025-01-01T00:00:00.000Z";
const PLAN = { warningSigns: ["a"], copingStrategies: ["b"], reasonsForLiving: ["c"], distractions: [], peopleToAskForHelp: [], professionalsToContact: [], makingEnvironmentSafe: [] };

interface RouteCase {
  route: string;
  /** The path with its parameter (if any) set to `param`, else to a real one. */
  path: (param?: string) => string;
  /** A valid body: only ever sent broken. */
  sample?: () => unknown;
  /** Would the route take this body (then it is not a bad request and is not sent)? */
  accepts?: (value: unknown) => boolean;
  deviceHeader?: "required" | "optional";
  /** Where the body names a device of the caller's. */
  deviceFields?: string[];
  /** An operators' route: sent with the ops token, so that bad bodies reach validation. */
  opsToken?: true;
}

const schemaAccepts = (schema: z.ZodType) => (value: unknown) => schema.safeParse(value).success;
const pushAccepts = (value: unknown) => {
  const parsed = SyncPushRequestSchema.safeParse(value);
  if (!parsed.success) return false;
  try {
    assertPayloadSizes(parsed.data.ops);
    assertCrisisPayloads(planPush(parsed.data.ops, { tier: "premium", receivedAtMs: Date.now(), inCrisisMode: false, inActiveSession: false }).ops);
    return true;
  } catch {
    return false;
  }
};
const withPayloadLimit = (schema: z.ZodType, payloadOf: (body: any) => unknown) => (value: unknown) =>
  schema.safeParse(value).success && checkOpPayloadSize((payloadOf(value) ?? null) as never).ok;

const CASES: RouteCase[] = [
  { route: "GET /health", path: () => "/health" },
  { route: "POST /webhooks/stripe", path: () => "/webhooks/stripe" }, // its own describe below
  { route: "GET /v1/me/entitlements", path: () => "/v1/me/entitlements" },
  { route: "GET /v1/me/usage", path: () => "/v1/me/usage" },
  { route: "GET /.well-known/jwks.json", path: () => "/.well-known/jwks.json" },
  {
    route: "POST /v1/devices", path: () => "/v1/devices",
    sample: () => ({ deviceId: "fuzz-new-device", platform: "ios", appVersion: "1.2.3", primary: false }),
    accepts: schemaAccepts(DeviceRegistrationRequestSchema),
  },
  { route: "GET /v1/devices", path: () => "/v1/devices" },
  { route: "DELETE /v1/devices/{deviceId}", path: (id = tablet()) => `/v1/devices/${id}` },
  {
    route: "POST /v1/sync/push", path: () => "/v1/sync/push", deviceHeader: "required", accepts: pushAccepts,
    sample: () => ({
      ops: [
        { opId: "fuzz-op-1", entityType: "check_in", entityId: "fuzz-e", action: "upsert", baseVersion: 0, payload: { mood: 3, note: "ok" }, clientTime: CLIENT_TIME },
        { opId: "fuzz-op-2", entityType: "assessment", entityId: "fuzz-a", action: "upsert", baseVersion: 0, payload: { instrument: "PHQ-9", answers: [0, 1, 0, 0, 0, 0, 0, 0, 0] }, clientTime: CLIENT_TIME },
        { opId: "fuzz-op-3", entityType: "safety_plan", entityId: "current", action: "upsert", baseVersion: 1, payload: { warningSigns: ["a"] }, clientTime: CLIENT_TIME },
      ],
    }),
  },
  { route: "GET /v1/sync/pull", path: () => "/v1/sync/pull", deviceHeader: "required" },
  { route: "GET /v1/sync/conflicts", path: () => "/v1/sync/conflicts" },
  {
    route: "POST /v1/sync/conflicts/{conflictId}/resolve", path: (id = conflictId) => `/v1/sync/conflicts/${id}/resolve`, deviceHeader: "optional",
    sample: () => ({ resolution: "merge", payload: { mood: 4 } }),
    accepts: withPayloadLimit(ConflictResolveRequestSchema, (body) => body.payload),
  },
  {
    route: "POST /v1/sessions/{sessionId}/handoff", path: (id = "fuzz-session") => `/v1/sessions/${id}/handoff`,
    sample: () => ({ fromDeviceId: phone(), toDeviceId: tablet(), snapshot: { exercise: "breathing", step: 3 } }),
    accepts: withPayloadLimit(HandoffRequestSchema, (body) => body.snapshot), deviceFields: ["fromDeviceId", "toDeviceId"],
  },
  { route: "GET /v1/crisis/resources", path: () => "/v1/crisis/resources" },
  {
    route: "POST /v1/crisis/activate", path: () => "/v1/crisis/activate", deviceFields: ["deviceId"],
    sample: () => ({ deviceId: phone(), level: "high", source: "button" }), accepts: schemaAccepts(CrisisActivateRequestSchema),
  },
  {
    route: "POST /v1/crisis/resolve", path: () => "/v1/crisis/resolve", deviceFields: ["deviceId"],
    sample: () => ({ deviceId: phone() }), accepts: schemaAccepts(CrisisResolveRequestSchema),
  },
  { route: "PUT /v1/crisis/safety-plan", path: () => "/v1/crisis/safety-plan", deviceHeader: "required", sample: () => PLAN, accepts: schemaAccepts(SafetyPlanSchema) },
  { route: "DELETE /v1/crisis/safety-plan", path: () => "/v1/crisis/safety-plan", deviceHeader: "required" },
  {
    route: "PUT /v1/crisis/contacts", path: () => "/v1/crisis/contacts", deviceHeader: "required",
    sample: () => ({ contacts: [{ name: "Sam", phone: "+1 555 0100", relationship: "friend" }] }), accepts: schemaAccepts(EmergencyContactsRequestSchema),
  },
  { route: "PUT /v1/crisis/region", path: () => "/v1/crisis/region", sample: () => ({ region: "GB" }), accepts: schemaAccepts(CrisisRegionRequestSchema) },
  { route: "GET /admin/crisis-directory", path: () => "/admin/crisis-directory", opsToken: true },
  {
    route: "PUT /admin/crisis-directory", path: () => "/admin/crisis-directory", opsToken: true,
    sample: () => structuredClone(BUNDLED_DIRECTORY_DATA), accepts: schemaAccepts(CrisisDirectorySchema),
  },
];

const methodOf = (c: RouteCase) => c.route.split(" ")[0]!;

async function send(c: RouteCase, options: { path?: string; body?: string | Buffer; contentType?: string | undefined; headers?: Record<string, string>; deviceId?: string | null } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${c.opsToken ? rt.secrets.adminToken : user.token}` };
  const deviceId = options.deviceId === undefined ? phone() : options.deviceId;
  if (c.deviceHeader && deviceId !== null) headers["x-device-id"] = deviceId;
  if (options.body !== undefined && options.contentType !== undefined) headers["content-type"] = options.contentType;
  return rawRequest(rt.baseUrl, { method: methodOf(c), path: options.path ?? c.path(), headers: { ...headers, ...options.headers }, body: options.body });
}

/** Every raw item of the fuzzed user and of the stranger whose device ids the fuzzer borrows. */
async function snapshot() {
  const { Sync, Payments } = rt.resources.tables;
  const of = async (who: typeof user) => Promise.all([
    partition(rt.dynamo, Sync, userPartition(who.userKey)), partition(rt.dynamo, Payments, userPartition(who.userKey)),
    ...Object.values(who.devices).map((d) => partition(rt.dynamo, Sync, feedPartition(who.userKey, d))),
  ]);
  return { user: await of(user), stranger: await of(stranger), directory: await partition(rt.dynamo, Sync, CRISIS_DIRECTORY_CURRENT_KEY.pk) };
}

/** Runs `property` for FUZZ_RUNS generated cases between two snapshots that must be equal. */
async function unchangedAfter<T>(arbitrary: fc.Arbitrary<T>, body: (value: T) => Promise<void>) {
  const before = await snapshot();
  await check(arbitrary, body);
  expect(await snapshot()).toEqual(before);
}

/** Would the route take this text (JSON that its oracle accepts)? */
function textAccepted(c: RouteCase, text: string): boolean {
  try {
    return c.accepts?.(JSON.parse(text)) ?? false;
  } catch {
    return false;
  }
}

/** Accepted when valid UTF-8 JSON that the route takes: random bytes may, once in a blue moon, spell `{}`. */
function bytesAccepted(c: RouteCase, body: WireBody): boolean {
  try {
    return textAccepted(c, new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(body.body)));
  } catch {
    return false;
  }
}

beforeAll(async () => {
  // Prepare: a free user (manual conflicts) with an open conflict, a safety plan and contacts.
  user = await sync.user("fuzz", ["phone", "tablet"], "free");
  stranger = await sync.user("fuzz-stranger", ["phone"]);
  const first = makeOp({ entityType: "mood_entry", entityId: "fuzz-entry", clientTime: new Date(Date.now() - 30_000).toISOString() });
  const second = makeOp({ entityType: "mood_entry", entityId: "fuzz-entry" });
  await sync.push(user.token, phone(), [first]);
  await sync.applied(user.userKey, [first.opId]);
  await sync.push(user.token, tablet(), [second]);
  const records = await sync.applied(user.userKey, [second.opId]);
  expect(records.get(second.opId)?.outcome).toBe("conflict");
  conflictId = second.opId;
  const headers = { "x-device-id": phone() };
  expect((await rt.request("PUT", "/v1/crisis/safety-plan", { token: user.token, headers, body: PLAN })).status).toBe(200);
  expect((await rt.request("PUT", "/v1/crisis/contacts", { token: user.token, headers, body: { contacts: [{ name: "Sam" }] } })).status).toBe(200);
});

describe("fuzzed requests get a 4xx and change nothing", () => {
  it("the table covers every route of ROUTES", () => {
    expect(CASES.map((c) => c.route).sort()).toEqual(ROUTES.map((r) => r.route).sort());
  });

  const withBody = CASES.filter((c) => c.sample);
  describe.each(withBody.map((c) => [c.route, c] as const))("%s", (_route, c) => {
    it("refuses random JSON documents", () => unchangedAfter(randomJsonBody, async ({ label, value }) => {
      fc.pre(!textAccepted(c, value));
      expectRefused(await send(c, { body: value, contentType: "application/json" }), label);
    }));

    it("refuses a valid body with one field of the wrong type, missing or unknown", () => unchangedAfter(fc.constant(null).chain(() => mutated(c.sample!())), async ({ label, value }) => {
      fc.pre(!c.accepts!(value));
      expectRefused(await send(c, { body: JSON.stringify(value), contentType: "application/json" }), label);
    }));

    it("refuses huge strings (≥ 300 KB) anywhere in the body, and bodies over 6 MiB", () => unchangedAfter(
      fc.oneof({ weight: 9, arbitrary: fc.constant(null).chain(() => withHugeString(c.sample!())) }, { weight: 1, arbitrary: fc.constant({ label: "a 7 MiB body", value: "x".repeat(OVERSIZED_BODY_BYTES) }) }),
      async ({ label, value }) => {
        fc.pre(typeof value === "string" || !c.accepts!(value));
        expectRefused(await send(c, { body: typeof value === "string" ? value : JSON.stringify(value), contentType: "application/json" }), label);
      },
    ));

    it("refuses deep nesting (1,000 to 50,000 levels) anywhere in the body", () => unchangedAfter(fc.constant(null).chain(() => withDeepNesting(c.sample!())), async ({ label, value }) => {
      expectRefused(await send(c, { body: value, contentType: "application/json" }), label);
    }));

    it("refuses garbage bytes and invalid UTF-8", () => unchangedAfter(fc.constant(null).chain(() => garbageBytes(c.sample!())), async (body) => {
      fc.pre(!bytesAccepted(c, body));
      expectRefused(await send(c, { body: body.body, contentType: body.contentType }), body.label);
    }));
  });

  const withParam = CASES.filter((c) => c.route.includes("{"));
  describe.each(withParam.map((c) => [c.route, c] as const))("%s", (_route, c) => {
    it("refuses path parameters that are not ids (traversal, spaces, 129 characters, bad encodings)", () => unchangedAfter(
      fc.record({ id: fc.oneof(badId, fc.constantFrom("%E0%A4%A", "%", "%zz", "%2F")), raw: fc.boolean() }),
      async ({ id, raw }) => {
        const body = c.sample ? JSON.stringify(c.sample()) : undefined;
        expectRefused(await send(c, { path: c.path(pathSegment(id, raw)), body, contentType: "application/json" }), `param ${JSON.stringify(id)}`);
      },
    ));
  });

  const withDevice = CASES.filter((c) => c.deviceHeader || c.deviceFields);
  describe.each(withDevice.map((c) => [c.route, c] as const))("%s", (_route, c) => {
    const foreign = () => fc.oneof(
      badId.map(headerValue).filter((v) => !/^[A-Za-z0-9_-]{1,128}$/.test(v)),
      fc.constantFrom("", "not-my-device", stranger.devices.phone!, `${phone()},${tablet()}`, "x".repeat(8_000)),
    );
    it("refuses device ids that are malformed, unknown or another user's", () => unchangedAfter(fc.constant(null).chain(foreign), async (deviceId) => {
      const body = c.sample ? c.sample() as Record<string, unknown> : undefined;
      for (const field of c.deviceFields ?? []) if (body) body[field] = deviceId;
      const response = await send(c, { ...(c.deviceHeader ? { deviceId } : {}), ...(body ? { body: JSON.stringify(body), contentType: "application/json" } : {}) });
      expectRefused(response, `device ${JSON.stringify(deviceId.slice(0, 60))}`);
    }));
    if (c.deviceHeader === "required") {
      it("refuses a request without X-Device-Id", () => unchangedAfter(fc.constant(null), async () => {
        const body = c.sample ? JSON.stringify(c.sample()) : undefined;
        expectRefused(await send(c, { deviceId: null, body, contentType: "application/json" }), "no X-Device-Id");
      }));
    }
  });

  it("GET /v1/sync/pull refuses bad query parameters", async () => {
    const b64 = (text: string) => Buffer.from(text).toString("base64url");
    const value = fc.oneof(fc.constantFrom("", "0", "-1", "501", "abc", "1.5", "1e3", "Infinity", "NaN", "0x10", "!!!", "a b", "x".repeat(513), b64("v2.1"), b64("v1.-1"), b64("v1.1234567890123456"), b64("v1.1e3")), fc.string({ maxLength: 40 }));
    const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom("limit", "cursor"), fc.string({ minLength: 1, maxLength: 10 })), value), { minLength: 1, maxLength: 3 });
    const pull = CASES.find((c) => c.route === "GET /v1/sync/pull")!;
    await unchangedAfter(query, async (pairs) => {
      const params = Object.fromEntries(pairs);
      const valid = SyncPullQuerySchema.safeParse(params);
      fc.pre(!(valid.success && (() => { try { decodeCursor(valid.data.cursor); return true; } catch { return false; } })()));
      const qs = new URLSearchParams(pairs).toString();
      expectRefused(await send(pull, { path: `/v1/sync/pull?${qs}` }), `?${qs}`);
    });
  });

  const inputless = CASES.filter((c) => methodOf(c) === "GET" && !c.deviceHeader);
  it.each(inputless.map((c) => [c.route, c] as const))("%s ignores junk query strings, headers and bodies: same answer, nothing changed", async (_route, c) => {
    const clean = (await send(c)).status;
    const junk = fc.record({ query: fc.webQueryParameters(), header: badId.map(headerValue), body: randomJsonBody });
    await unchangedAfter(junk, async ({ query, header, body }) => {
      const response = await send(c, { path: `${c.path()}?${query}`, headers: { "x-device-id": header, "x-junk": header }, body: body.value, contentType: "application/json" });
      expect(response.status, `${body.label} → ${response.text.slice(0, 200)}`).toBe(clean);
    });
  });

  it.each(CASES.map((c) => [c.route, c] as const))("%s: other methods are unknown routes (404)", async (_route, c) => {
    const taken = CASES.filter((o) => o.path() === c.path()).map(methodOf);
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].filter((m) => !taken.includes(m))) {
      expectRefused(await rawRequest(rt.baseUrl, { method, path: c.path(), headers: { authorization: `Bearer ${user.token}` } }), method);
    }
  });
});

describe("POST /webhooks/stripe: fuzzed events get a 400 and store nothing", () => {
  const created = () => Math.floor(Date.now() / 1000);
  const sample = () => ({
    id: `evt_fuzz_${Math.random().toString(36).slice(2)}`, object: "event", type: "customer.subscription.updated", created: created(),
    data: { object: { id: "sub_fuzz", customer: "cus_fuzz", status: "active", metadata: { userId: "fuzz-stripe-user" }, trial_end: null, items: { data: [{ price: { id: "price_fuzz", lookup_key: "premium_monthly", metadata: {} } }] } } },
  });
  const accepted = (text: string) => {
    try { extractStripeFacts(JSON.parse(text), { priceTiers: {} }); return true; } catch { return false; }
  };
  const sent = new Set<string>();
  const post = (body: string | Buffer, signature: string | undefined, contentType = "application/json") => {
    const id = /"id":"(evt_[^"]{1,200})"/.exec(body.toString())?.[1];
    if (id) sent.add(id);
    return rawRequest(rt.baseUrl, { method: "POST", path: "/webhooks/stripe", body, headers: { "content-type": contentType, ...(signature === undefined ? {} : { "stripe-signature": signature }) } });
  };
  const sign = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
    Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? rt.secrets.stripeWebhookSecret, ...(options.timestamp ? { timestamp: options.timestamp } : {}) });

  async function eventRecords() {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await rt.dynamo.send(new ScanCommand({
        TableName: rt.resources.tables.Payments, FilterExpression: "begins_with(pk, :event)", ExpressionAttributeValues: { ":event": STRIPE_EVENT_PREFIX }, Select: "COUNT", ExclusiveStartKey: start, ConsistentRead: true,
      }));
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  /** Runs the property, then checks no event record appeared, neither by count nor under an id sent. */
  async function nothingStored<T>(arbitrary: fc.Arbitrary<T>, body: (value: T) => Promise<void>) {
    const before = await eventRecords();
    await check(arbitrary, body);
    expect(await eventRecords()).toBe(before);
    const keys = [...sent].slice(0, 100).map((id) => stripeEventKey(id));
    if (keys.length === 0) return;
    const found = await rt.dynamo.send(new BatchGetCommand({ RequestItems: { [rt.resources.tables.Payments]: { Keys: keys, ConsistentRead: true } } }));
    expect(found.Responses?.[rt.resources.tables.Payments] ?? []).toEqual([]);
    sent.clear();
  }

  it("refuses signed random JSON documents that are not Stripe events", () => nothingStored(randomJsonBody, async ({ label, value }) => {
    fc.pre(!accepted(value));
    expectRefused(await post(value, sign(value)), label);
  }));

  it("refuses signed events with a field of the wrong type, missing or unknown", () => nothingStored(fc.constant(null).chain(() => mutated(sample())), async ({ label, value }) => {
    const text = JSON.stringify(value);
    fc.pre(!accepted(text));
    expectRefused(await post(text, sign(text)), label);
  }));

  it("refuses signed events with huge strings (≥ 300 KB) where Stripe has ids", () => nothingStored(fc.constant(null).chain(() => withHugeString(sample())), async ({ label, value }) => {
    const text = JSON.stringify(value);
    fc.pre(!accepted(text));
    expectRefused(await post(text, sign(text)), label);
  }));

  it("refuses signed events nested 1,000+ levels deep where a field is read", () => nothingStored(fc.constant(null).chain(() => withDeepNesting(sample())), async ({ label, value }) => {
    fc.pre(!accepted(value));
    expectRefused(await post(value, sign(value)), label);
  }));

  it("refuses garbage bytes, signed or not", () => nothingStored(fc.tuple(fc.constant(null).chain(() => garbageBytes(sample())), fc.boolean()), async ([body, signed]) => {
    const text = Buffer.from(body.body).toString("utf8");
    fc.pre(!accepted(text));
    expectRefused(await post(body.body, signed ? sign(text) : undefined, body.contentType), `${body.label}${signed ? ", signed" : ""}`);
  }));

  it("refuses a valid event with a bad signature", () => nothingStored(
    fc.constantFrom<(payload: string) => string | undefined>(
      () => undefined, () => "", () => "garbage", () => "t=1,v1=00", (p) => sign(p, { secret: "whsec_another" }),
      (p) => sign(p, { timestamp: created() - 301 }), (p) => sign(`${p} `),
      (p) => sign(p).replace("v1=", "v0="), (p) => sign(p).split(",")[0]!,
    ),
    async (signature) => {
      const text = JSON.stringify(sample());
      expectRefused(await post(text, signature(text)), `signature ${String(signature(text)).slice(0, 40)}`);
    },
  ));
});
