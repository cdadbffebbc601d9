/**
 * The OpenAPI 3.1 document of the device API, generated from the same zod schemas that
 * validate requests and responses, so the document cannot drift from the code.
 *
 * @example
 * const document = buildOpenApiDocument();
 * document.paths["/v1/sync/push"].post.requestBody;
 */
import { API_SCHEMAS, toJsonSchema, type ApiSchemaName } from "./schemas.js";

export interface Operation {
  /** `METHOD /path`, the API Gateway route key. */
  route: string;
  summary: string;
  auth: boolean;
  body?: ApiSchemaName;
  /** The route needs the `X-Device-Id` header (`"optional"`: it may name one). */
  deviceHeader?: boolean | "optional";
  query?: { name: string; description: string; schema: Record<string, unknown> }[];
  /** Status → response schema (`null`: no body). Error statuses are added from `errors`. */
  responses: Record<number, ApiSchemaName | null>;
  errors: number[];
}

const AUTH_ERRORS = [400, 401, 404];

export const OPERATIONS: readonly Operation[] = [
  { route: "GET /health", summary: "Liveness and the reachability of every dependency", auth: false, responses: { 200: "HealthResponse", 503: "HealthResponse" }, errors: [] },
  { route: "POST /webhooks/stripe", summary: "Stripe webhook (raw body, Stripe-Signature header)", auth: false, responses: { 200: null }, errors: [400, 503] },
  { route: "GET /v1/me/entitlements", summary: "Tier, status, grace period, feature flags, policy", auth: true, responses: { 200: "EntitlementsResponse" }, errors: [401] },
  { route: "POST /v1/devices", summary: "Register a device (idempotent)", auth: true, body: "DeviceRegistrationRequest", responses: { 201: "Device", 200: "Device" }, errors: [400, 401, 409] },
  { route: "GET /v1/devices", summary: "List the caller's devices", auth: true, responses: { 200: "DeviceListResponse" }, errors: [401] },
  { route: "DELETE /v1/devices/{deviceId}", summary: "Remove a device", auth: true, responses: { 204: null }, errors: AUTH_ERRORS },
  { route: "POST /v1/sync/push", summary: "Push ops; per-op results", auth: true, deviceHeader: true, body: "SyncPushRequest", responses: { 200: "SyncPushResponse" }, errors: [...AUTH_ERRORS, 413, 429, 503] },
  {
    route: "GET /v1/sync/pull", summary: "Changes for this device after the cursor", auth: true, deviceHeader: true,
    query: [
      { name: "cursor", description: "Opaque cursor from the previous pull", schema: { type: "string" } },
      { name: "limit", description: "Page size, 1–500 (default 100)", schema: { type: "integer", minimum: 1, maximum: 500 } },
    ],
    responses: { 200: "SyncPullResponse" }, errors: [...AUTH_ERRORS, 429],
  },
  { route: "GET /v1/sync/conflicts", summary: "Open manual conflicts", auth: true, responses: { 200: "ConflictListResponse" }, errors: [401] },
  { route: "POST /v1/sync/conflicts/{conflictId}/resolve", summary: "Resolve a manual conflict", auth: true, deviceHeader: "optional", body: "ConflictResolveRequest", responses: { 200: "ConflictResolveResponse" }, errors: [...AUTH_ERRORS, 409, 413] },
  { route: "POST /v1/sessions/{sessionId}/handoff", summary: "Hand a session to another device", auth: true, body: "HandoffRequest", responses: { 200: "HandoffResponse" }, errors: [...AUTH_ERRORS, 413] },
  { route: "GET /v1/crisis/resources", summary: "988 hotline, safety plan, emergency contacts — for every user", auth: true, responses: { 200: "CrisisResourcesResponse" }, errors: [401] },
  { route: "POST /v1/crisis/activate", summary: "Crisis mode on all devices; answers with the resources", auth: true, body: "CrisisActivateRequest", responses: { 200: "CrisisResourcesResponse" }, errors: AUTH_ERRORS },
  { route: "POST /v1/crisis/resolve", summary: "Leave crisis mode", auth: true, body: "CrisisResolveRequest", responses: { 200: "CrisisResolveResponse" }, errors: AUTH_ERRORS },
  { route: "PUT /v1/crisis/safety-plan", summary: "Write the safety plan (crisis priority, synchronous)", auth: true, deviceHeader: true, body: "SafetyPlan", responses: { 200: "CrisisWriteResponse" }, errors: AUTH_ERRORS },
  { route: "PUT /v1/crisis/contacts", summary: "Write the emergency contacts (crisis priority, synchronous)", auth: true, deviceHeader: true, body: "EmergencyContactsRequest", responses: { 200: "CrisisWriteResponse" }, errors: AUTH_ERRORS },
];

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input (zod issues in `error.details`)", 401: "Missing or invalid bearer token",
  404: "Not found (another user's resources are indistinguishable from missing ones)", 409: "Conflict",
  413: "Payload too large", 429: "Limit exceeded (`Retry-After`, the limit in `error.details.limit`)",
  503: "A dependency is unavailable; retry",
};

function componentSchema(name: ApiSchemaName): Record<string, unknown> {
  const io = /Request$|Params$|Headers$|Query$|^SafetyPlan$/.test(name) ? "input" : "output";
  const { $schema: _dialect, ...schema } = toJsonSchema(API_SCHEMAS[name], io);
  // zod puts recursive parts (z.json()) in the schema's own `$defs` and points at them with
  // `#/$defs/…`; inside the document `#` is the document's root, so the pointers get the path
  // of the component they live in.
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', `"#/components/schemas/${name}/$defs/`)) as Record<string, unknown>;
}

const ref = (name: ApiSchemaName) => ({ $ref: `#/components/schemas/${name}` });

function operationObject(op: Operation): Record<string, unknown> {
  const [method = "", path = ""] = op.route.split(" ");
  const parameters: Record<string, unknown>[] = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1], in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" },
  }));
  if (op.deviceHeader) parameters.push({ name: "X-Device-Id", in: "header", required: op.deviceHeader === true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" } });
  for (const q of op.query ?? []) parameters.push({ name: q.name, in: "query", required: false, description: q.description, schema: q.schema });
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(op.responses)) {
    responses[status] = schema === null
      ? { description: status === "204" ? "No content" : "OK" }
      : { description: "OK", content: { "application/json": { schema: ref(schema) } } };
  }
  for (const status of op.errors) {
    responses[String(status)] = { description: ERROR_DESCRIPTIONS[status] ?? "Error", content: { "application/json": { schema: ref("ErrorBody") } } };
  }
  return {
    operationId: `${method.toLowerCase()}${path.replace(/\{(\w+)\}/g, "By_$1").replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
    summary: op.summary,
    security: op.auth ? [{ bearer: [] }] : [],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.body) } } } } : {}),
    responses,
  };
}

export function buildOpenApiDocument(): Record<string, unknown> & { paths: Record<string, Record<string, Record<string, unknown>>> } {
  const paths: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const op of OPERATIONS) {
    const [method = "", path = ""] = op.route.split(" ");
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = operationObject(op);
  }
  const schemas = Object.fromEntries((Object.keys(API_SCHEMAS) as ApiSchemaName[]).map((name) => [name, componentSchema(name)]));
  return {
    openapi: "3.1.0",
    info: { title: "paysync device API", version: "1.0.0", description: "Tier-aware multi-device sync with an always-open crisis path." },
    servers: [{ url: "http://127.0.0.1:3000", description: "local (npm start)" }],
    paths,
    components: { schemas, securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
  };
}
