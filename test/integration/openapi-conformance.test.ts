import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "@paysync/core/api/openapi";
import { CRISIS_PAYLOAD_SCHEMAS } from "@paysync/core/crisis/resources";
import { AssessmentPayloadSchema } from "@paysync/core/sync/assessment";
import { useRuntime } from "../helpers/runtime.js";
import { documentValidator } from "../helpers/openapi-validator.js";
import { arbitraryOf } from "../helpers/schema-arbitrary.js";
import { syncClient } from "../helpers/sync.js";

/**
 * Conformance (SPEC §4, §5): requests drawn from the OpenAPI document alone — not from the zod
 * schemas that made it — sent to the live local service, every answer checked against the
 * document. A request the document calls valid may be refused only for a rule the document
 * states in words (listed in `DESCRIBED_RULES`); any other 400 means the server enforces a rule
 * the document does not tell client authors. Invalid requests (an unknown field) must get a
 * documented 4xx in `ErrorBody`. CONFORMANCE_RUNS sets the valid requests per operation
 * (default 12), CONFORMANCE_SEED replays a failure.
 */
const rt = useRuntime();
const sync = syncClient(rt);
const document = buildOpenApiDocument() as Record<string, any>;
const RUNS = Number(process.env.CONFORMANCE_RUNS ?? 12);
const SEED = process.env.CONFORMANCE_SEED ? Number(process.env.CONFORMANCE_SEED) : undefined;

const validate = documentValidator(document);

interface Operation { route: string; method: string; path: string; spec: Record<string, any> }
const OPERATIONS: Operation[] = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, spec]) => ({ route: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, spec })));

interface Sent { path: string; headers: Record<string, string>; body?: unknown }

/**
 * Rules the document states only in a description (JSON Schema cannot say them); a valid
 * request that breaks one may be a 400. Each predicate uses the server's own check.
 */
const DESCRIBED_RULES: Record<string, (sent: Sent) => boolean> = {
  // SyncOp's description: an upsert of a crisis type or an assessment has that type's own payload shape.
  "POST /v1/sync/push": (sent) => ((sent.body as { ops?: Array<Record<string, unknown>> })?.ops ?? []).some((op) => {
    if (op.action !== "upsert") return false;
    const schema = op.entityType === "assessment" ? AssessmentPayloadSchema : CRISIS_PAYLOAD_SCHEMAS[op.entityType as keyof typeof CRISIS_PAYLOAD_SCHEMAS];
    return schema !== undefined && !schema.safeParse(op.payload).success;
  }),
  // HandoffRequest's description: the two devices differ.
  "POST /v1/sessions/{sessionId}/handoff": (sent) => (sent.body as any)?.fromDeviceId === (sent.body as any)?.toDeviceId,
  // SafetyPlanRequest's description: at least one section holds an entry.
  "PUT /v1/crisis/safety-plan": (sent) => Object.values((sent.body ?? {}) as Record<string, unknown[]>).every((items) => items.length === 0),
  // The webhook's description: only Stripe's signature over the raw body is accepted.
  "POST /webhooks/stripe": () => true,
};

let token: string;
let devices: string[];

beforeAll(async () => {
  const user = await sync.user("conformance", ["phone", "tablet"]);
  token = user.token;
  devices = [user.devices.phone!, user.devices.tablet!];
});

/** Fields that name one of the caller's devices get a registered one half the time (else a 404 is all there is to see). */
const DEVICE_FIELDS = new Set(["deviceId", "fromDeviceId", "toDeviceId"]);
function withOwnDevices(body: unknown, pick: (i: number) => string): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).map(([k, v], i) => [k, DEVICE_FIELDS.has(k) && typeof v === "string" && i % 2 === 0 ? pick(i) : v]));
}

function requestOf(op: Operation): fc.Arbitrary<Sent> {
  const parameters = (op.spec.parameters ?? []) as Array<Record<string, any>>;
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of parameters) {
    // An opaque cursor only comes from a previous answer: a made-up one is rightly a 400.
    if (p.in === "query" && p.name === "cursor") continue;
    const value = p.name === "X-Device-Id" ? fc.constantFrom(...devices) : arbitraryOf(p.schema, document);
    parts[`${p.in}:${p.name}`] = p.required ? value : fc.option(value, { nil: undefined });
  }
  const body = op.spec.requestBody?.content?.["application/json"]?.schema;
  if (body) parts.body = arbitraryOf(body, document);
  return fc.record(parts).chain((drawn) => fc.nat({ max: 1 }).map((n) => {
    let path = op.path;
    const headers: Record<string, string> = {};
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(drawn)) {
      if (key === "body" || value === undefined) continue;
      const [where, name = ""] = key.split(":");
      if (where === "path") path = path.replace(`{${name}}`, encodeURIComponent(String(value)));
      if (where === "header") headers[name.toLowerCase()] = String(value);
      if (where === "query") query.set(name, String(value));
    }
    const qs = query.size > 0 ? `?${query}` : "";
    return { path: `${path}${qs}`, headers, ...(body ? { body: withOwnDevices(drawn.body, (i) => devices[(i + n) % devices.length]!) } : {}) };
  }));
}

/** Problems with one answer; empty when the document describes it. */
function problemsOf(op: Operation, status: number, json: unknown, text: string): string[] {
  const documented = op.spec.responses?.[String(status)];
  if (!documented) return [`${op.route}: ${status} is not documented (${text.slice(0, 200)})`];
  const schema = documented.content?.["application/json"]?.schema;
  if (!schema) return [];
  const error = validate(schema.$ref, json);
  return error ? [`${op.route} ${status}: body does not match the document: ${error} (${text.slice(0, 200)})`] : [];
}

describe("the live service conforms to its OpenAPI document", () => {
  it.each(OPERATIONS.map((op) => [op.route, op] as const))("%s: valid requests get documented answers, never an unstated refusal", async (_route, op) => {
    // Act
    const problems: string[] = [];
    await fc.assert(fc.asyncProperty(requestOf(op), async (sent) => {
      const response = await rt.request(op.method, sent.path, { token, headers: sent.headers, ...(sent.body !== undefined ? { body: sent.body } : {}) });
      problems.push(...problemsOf(op, response.status, response.json, response.text));
      if (response.status >= 500) problems.push(`${op.route}: ${response.status} for a valid request ${JSON.stringify(sent).slice(0, 300)}`);
      if (response.status === 400 && !DESCRIBED_RULES[op.route]?.(sent)) {
        problems.push(`${op.route}: a request the document calls valid was refused: ${response.text.slice(0, 200)} ← ${JSON.stringify(sent).slice(0, 300)}`);
      }
    }), { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) });

    // Assess
    expect([...new Set(problems)].slice(0, 5)).toEqual([]);
  });

  it.each(OPERATIONS.filter((op) => op.spec.requestBody?.content?.["application/json"]?.schema?.$ref).map((op) => [op.route, op] as const))(
    "%s: a body with a field the document does not know gets a documented 4xx in ErrorBody",
    async (_route, op) => {
      // Act
      const problems: string[] = [];
      await fc.assert(fc.asyncProperty(requestOf(op), async (sent) => {
        const body = { ...(sent.body as Record<string, unknown>), notInTheDocument: true };
        const response = await rt.request(op.method, sent.path, { token, headers: sent.headers, body });
        problems.push(...problemsOf(op, response.status, response.json, response.text));
        if (response.status < 400 || response.status >= 500) problems.push(`${op.route}: ${response.status} for an unknown field`);
      }), { numRuns: 3, ...(SEED !== undefined ? { seed: SEED } : {}) });

      // Assess
      expect(problems.slice(0, 5)).toEqual([]);
    },
  );
});
