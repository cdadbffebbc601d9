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
import { API_ROUTES, type ApiRoute } from "./routes.js";
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
    security: op.auth ? [{ bearer: [] }] : [],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.body) } } } } : {}),
    ...(raw ? { requestBody: raw.requestBody } : {}),
    responses,
  };
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
  const schemas = Object.fromEntries((Object.keys(API_SCHEMAS) as ApiSchemaName[]).map((name) => [name, componentSchema(name)]));
  return {
    openapi: "3.1.0",
    info: {
      title: "paysync device API", version: "1.0.0",
      license: { name: "Proprietary" },
      description: "Tier-aware multi-device sync with an always-open crisis path. Devices send `X-Paysync-Protocol` "
        + `(supported ${SUPPORTED_PROTOCOL.min}..${SUPPORTED_PROTOCOL.max}, also stated by GET /health); the realtime WebSocket is described in \`x-paysync-realtime\`.`,
      "x-paysync-protocol": { header: PROTOCOL_HEADER, ...SUPPORTED_PROTOCOL, absentMeans: CURRENT_PROTOCOL },
    },
    "x-paysync-realtime": REALTIME_EXTENSION,
    servers: [{ url: serverUrl, description: "local (npm start)" }],
    paths,
    components: { schemas, securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
  };
}
