/**
 * The OpenAPI 3.1 document of the device API, generated from the same zod schemas that
 * validate requests and responses, so the document cannot drift from the code.
 *
 * @example
 * const document = buildOpenApiDocument();
 * document.paths["/v1/sync/push"].post.requestBody;
 */
import { answersEveryProtocol, CURRENT_PROTOCOL, PROTOCOL_HEADER, SUPPORTED_PROTOCOL } from "./protocol.js";
import { REALTIME_PATH, REALTIME_ROUTES } from "./realtime.js";
import { API_ROUTES, type ApiFunction, type ApiRoute } from "./routes.js";
import { API_SCHEMAS, toJsonSchema, type ApiSchemaName } from "./schemas.js";

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input (zod issues in `error.details`)", 401: "Missing or invalid bearer token",
  404: "Not found (another user's resources are indistinguishable from missing ones)", 409: "Conflict",
  410: "`resync_required`: the cursor points into a part of the feed that retention purged; drop it and pull without a cursor",
  413: "Payload too large", 426: "`protocol_unsupported`: the `X-Paysync-Protocol` version is outside `error.details.supported` ({min, max})",
  429: "Limit exceeded (`Retry-After`, the limit in `error.details.limit`)",
  503: "A dependency is unavailable; retry",
  405: "`method_not_allowed`: the path exists but not with this method (`Allow` lists its methods)",
  431: "`headers_too_large`: the request's headers exceed 10 KiB",
  500: "`internal_error`: the service failed; nothing of the cause is said",
  504: "`timeout`: the function did not answer within the integration timeout; retry",
};

/**
 * What any operation may answer whatever it does: the gateway's own refusals and the service's
 * faults (in AWS, API Gateway's own answers among them have a `{message}` body: docs/SECURITY.md).
 */
const EVERY_OPERATION_ERRORS = [404, 405, 413, 429, 431, 500, 503, 504];

const protocolHeader = (everyVersion: boolean) => ({
  name: "X-Paysync-Protocol", in: "header", required: false,
  description: everyVersion
    ? "The protocol version the device speaks; this route answers every version (crisis routes never refuse one)."
    : `The protocol version the device speaks (supported: ${SUPPORTED_PROTOCOL.min}..${SUPPORTED_PROTOCOL.max}); absent means ${CURRENT_PROTOCOL}. Outside the range: 426.`,
  schema: { type: "integer", minimum: 1 },
});

/** The realtime socket, which OpenAPI cannot describe as an operation: a documented extension. */
const REALTIME_EXTENSION = {
  description: "WebSocket for data-free pokes (SPEC §4.1). Connect with the user's JWT and a registered device of the caller; "
    + "the server sends only `PokeMessage` (\"pull now\", at the priority of what waits) and never data or ids. "
    + "Refused: 401 (token) or 403 (device not the caller's). Connections last at most 2 hours; reconnect with back-off.",
  path: REALTIME_PATH,
  url: { aws: "the RealtimeUrl stack output (wss://…/ws), or /v1/realtime on a custom domain", local: "ws://127.0.0.1:3000/v1/realtime" },
  query: { $ref: "#/components/schemas/RealtimeConnectQuery" },
  routes: [...REALTIME_ROUTES],
  serverMessages: [{ $ref: "#/components/schemas/PokeMessage" }],
  pokes: "every tier: crisis and active-session changes (priority >= 8) and server-originated changes (payment state, feature flags, sync policy); premium: every change",
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

/**
 * The Stripe webhook's request is Stripe's, not a schema of ours: the raw bytes are what the
 * signature covers, so the handler verifies them before it parses anything.
 */
const RAW_BODY_OPERATIONS: Record<string, { parameters: Record<string, unknown>[]; requestBody: Record<string, unknown> }> = {
  "POST /webhooks/stripe": {
    parameters: [{
      name: "Stripe-Signature", in: "header", required: true,
      description: "Stripe's `t=<unix time>,v1=<hex HMAC-SHA256>` over `<t>.<raw body>`; a timestamp more than 300 s old or in the future is refused (400)",
      schema: { type: "string", minLength: 1 },
    }],
    requestBody: {
      required: true,
      description: "The Stripe event exactly as Stripe sent it: verified byte for byte against `Stripe-Signature`, so it must not be re-encoded",
      content: { "application/json": { schema: { type: "object", required: ["id", "type"], properties: { id: { type: "string" }, type: { type: "string" } } } } },
    },
  },
};

/** The document's sections: each function's routes under the tag of what it serves. */
const TAGS = {
  health: "Liveness and dependencies",
  payments: "Stripe intake and what a user's plan entitles them to (SPEC §3)",
  devices: "A user's devices",
  sync: "Push, pull, conflicts and session handoff (SPEC §4, docs/SYNC.md)",
  crisis: "The crisis path: open to every user whatever they pay, never gated on payment (SPEC §4.2, docs/CRISIS.md)",
  admin: "Operators' routes, behind the ops token: the crisis directory (docs/CRISIS.md)",
} as const;
const TAG_OF: Record<ApiFunction, keyof typeof TAGS> = {
  Health: "health", StripeWebhook: "payments", Entitlements: "payments", Jwks: "payments", Devices: "devices",
  SyncPush: "sync", SyncPull: "sync", Conflicts: "sync", Handoff: "sync", Crisis: "crisis", Admin: "admin",
};

/** What a reader needs beyond the summary, said the same way for every operation. */
function describe(op: ApiRoute): string {
  const caller = op.auth ? "Needs the user's bearer token" : op.function === "Admin" ? "Needs the operators' token (a bearer token, not a user's)" : "No user token";
  const device = op.deviceHeader === true ? "; names the calling device in `X-Device-Id`" : op.deviceHeader === "optional" ? "; may name the calling device in `X-Device-Id`" : "";
  return `${op.summary}. ${caller}${device}. Every refusal is an \`ErrorBody\`.`;
}

function operationObject(op: ApiRoute): Record<string, unknown> {
  const [method = "", path = ""] = op.route.split(" ");
  const parameters: Record<string, unknown>[] = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1], in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" },
  }));
  if (op.deviceHeader) parameters.push({ name: "X-Device-Id", in: "header", required: op.deviceHeader === true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" } });
  const everyVersion = answersEveryProtocol(op.route);
  if (op.auth) parameters.push(protocolHeader(everyVersion));
  for (const q of op.query ?? []) parameters.push({ name: q.name, in: "query", required: false, description: q.description, schema: q.schema });
  const raw = RAW_BODY_OPERATIONS[op.route];
  if (raw) parameters.push(...raw.parameters);
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(op.responses)) {
    responses[status] = schema === null
      ? { description: status === "204" ? "No content" : "OK" }
      : { description: "OK", content: { "application/json": { schema: ref(schema) } } };
  }
  const errors = new Set<number>([...op.errors, ...EVERY_OPERATION_ERRORS, ...(op.auth ? [401] : []), ...(op.auth && !everyVersion ? [426] : [])]);
  for (const status of [...errors].sort((a, b) => a - b)) {
    responses[String(status)] = { description: ERROR_DESCRIPTIONS[status] ?? "Error", content: { "application/json": { schema: ref("ErrorBody") } } };
  }
  return {
    operationId: `${method.toLowerCase()}${path.replace(/\{(\w+)\}/g, "By_$1").replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
    summary: op.summary,
    description: describe(op),
    tags: [TAG_OF[op.function]],
    security: op.auth ? [{ bearer: [] }] : [],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.body) } } } } : {}),
    ...(raw ? { requestBody: raw.requestBody } : {}),
    responses,
  };
}

/** Names of the components a value points at (`$ref: #/components/schemas/<name>…`). */
function refsIn(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, found));
  else if (value !== null && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      const name = key === "$ref" && typeof v === "string" ? /^#\/components\/schemas\/(\w+)/.exec(v)?.[1] : undefined;
      if (name) found.add(name);
      else refsIn(v, found);
    }
  }
  return found;
}

/**
 * Only the components an operation or the realtime extension reaches: the registry also holds
 * schemas that validate parameters (inlined per operation) or that zod inlines into their parents.
 */
function usedComponents(paths: unknown, schemas: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const used = refsIn([paths, REALTIME_EXTENSION]);
  for (const name of [...used]) refsIn(schemas[name], used);
  return Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
}

/**
 * The document; `serverUrl` is where it is served from (the running local port), else the
 * default `npm start` address.
 */
export function buildOpenApiDocument(serverUrl = "http://127.0.0.1:3000"): Record<string, unknown> & { paths: Record<string, Record<string, Record<string, unknown>>> } {
  const paths: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const op of API_ROUTES as readonly ApiRoute[]) {
    const [method = "", path = ""] = op.route.split(" ");
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = operationObject(op);
  }
  const schemas = usedComponents(paths, Object.fromEntries((Object.keys(API_SCHEMAS) as ApiSchemaName[]).map((name) => [name, componentSchema(name)])));
  return {
    openapi: "3.1.0",
    info: {
      title: "paysync device API", version: "1.0.0",
      license: { name: "Proprietary" },
      contact: { name: "paysync engineering" },
      description: "Tier-aware multi-device sync with an always-open crisis path. Devices send `X-Paysync-Protocol` "
        + `(supported ${SUPPORTED_PROTOCOL.min}..${SUPPORTED_PROTOCOL.max}, also stated by GET /health); the realtime WebSocket is described in \`x-paysync-realtime\`.`,
      "x-paysync-protocol": { header: PROTOCOL_HEADER, ...SUPPORTED_PROTOCOL, absentMeans: CURRENT_PROTOCOL },
    },
    "x-paysync-realtime": REALTIME_EXTENSION,
    servers: [
      { url: serverUrl, description: "local (npm start)" },
      {
        url: "https://{apiId}.execute-api.{region}.amazonaws.com", description: "AWS: the stage's ApiUrl stack output",
        variables: { apiId: { default: "your-api-id", description: "the HTTP API's id" }, region: { default: "us-east-1" } },
      },
    ],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: { schemas, securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
  };
}
