/**
 * The one manifest of the HTTP API (SPEC.md §4): every route with the function that serves it,
 * whether it needs a user's token, and the schemas of its request and responses. The SST
 * stacks, the local gateway, each function's router and the OpenAPI document are all derived
 * from this table, so a route added here appears everywhere at once, and nowhere else.
 *
 * @example
 * API_ROUTES.filter((route) => route.function === "Crisis").map((route) => route.route);
 * // ["GET /v1/crisis/resources", "POST /v1/crisis/activate", …]
 */
import { CURSOR_PATTERN } from "./common.js";
import type { ApiSchemaName } from "./schemas.js";

/** The functions that serve HTTP routes (each is one Lambda function, with its own grants). */
export type ApiFunction =
  | "Health" | "StripeWebhook" | "Entitlements" | "Jwks" | "Devices" | "SyncPush" | "SyncPull" | "Conflicts" | "Handoff" | "Crisis" | "Admin";

export interface ApiRoute {
  /** `METHOD /path` with `{param}` segments: the API Gateway route key. */
  route: string;
  function: ApiFunction;
  summary: string;
  /**
   * A user's JWT. `false` only for `/health`, the JWKS (public keys), the Stripe webhook (which
   * verifies its own signature) and the operators' `/admin/*` routes (which check the ops token themselves).
   */
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

export const API_ROUTES = [
  { route: "GET /health", function: "Health", summary: "Liveness and the reachability of every dependency", auth: false, responses: { 200: "HealthResponse", 503: "HealthResponse" }, errors: [] },
  { route: "POST /webhooks/stripe", function: "StripeWebhook", summary: "Stripe webhook (raw body, Stripe-Signature header)", auth: false, responses: { 200: null }, errors: [400, 503] },
  { route: "GET /v1/me/entitlements", function: "Entitlements", summary: "Tier, status, grace period, feature flags, policy", auth: true, responses: { 200: "SignedEntitlementsResponse", 304: null }, errors: [401] },
  { route: "GET /.well-known/jwks.json", function: "Jwks", summary: "The public keys that verify signedEntitlements (JSON Web Key Set)", auth: false, responses: { 200: "JwksResponse" }, errors: [503] },
  { route: "GET /v1/me/usage", function: "SyncPull", summary: "Today's sync data, offline queue and bandwidth use against the plan's limits", auth: true, responses: { 200: "UsageResponse" }, errors: [401] },
  { route: "POST /v1/devices", function: "Devices", summary: "Register a device (idempotent)", auth: true, body: "DeviceRegistrationRequest", responses: { 201: "Device", 200: "Device" }, errors: [400, 401, 409] },
  { route: "GET /v1/devices", function: "Devices", summary: "List the caller's devices", auth: true, responses: { 200: "DeviceListResponse" }, errors: [401] },
  { route: "DELETE /v1/devices/{deviceId}", function: "Devices", summary: "Remove a device", auth: true, responses: { 204: null }, errors: AUTH_ERRORS },
  { route: "POST /v1/sync/push", function: "SyncPush", summary: "Push ops; per-op results", auth: true, deviceHeader: true, body: "SyncPushRequest", responses: { 200: "SyncPushResponse" }, errors: [...AUTH_ERRORS, 413, 429, 503] },
  {
    route: "GET /v1/sync/pull", function: "SyncPull", summary: "Changes for this device after the cursor", auth: true, deviceHeader: true,
    query: [
      { name: "cursor", description: "Opaque cursor from the previous pull (absent: a bootstrap)", schema: { type: "string", pattern: CURSOR_PATTERN.source } },
      { name: "limit", description: "Page size, 1–500 (default 100)", schema: { type: "integer", minimum: 1, maximum: 500 } },
    ],
    responses: { 200: "SyncPullResponse" }, errors: [...AUTH_ERRORS, 410, 429],
  },
  { route: "GET /v1/sync/conflicts", function: "Conflicts", summary: "Open manual conflicts", auth: true, responses: { 200: "ConflictListResponse" }, errors: [401] },
  { route: "POST /v1/sync/conflicts/{conflictId}/resolve", function: "Conflicts", summary: "Resolve a manual conflict", auth: true, deviceHeader: "optional", body: "ConflictResolveRequest", responses: { 200: "ConflictResolveResponse" }, errors: [...AUTH_ERRORS, 409, 413] },
  { route: "POST /v1/sessions/{sessionId}/handoff", function: "Handoff", summary: "Hand a session to another device", auth: true, body: "HandoffRequest", responses: { 200: "HandoffResponse" }, errors: [...AUTH_ERRORS, 413] },
  {
    route: "GET /v1/crisis/resources", function: "Crisis", summary: "Crisis lines for the region and the international fallback, safety plan, emergency contacts — for every user (ETag / 304)", auth: true,
    query: [{ name: "region", description: "ISO 3166-1 alpha-2 code (either case); else the user's saved region, else US. Malformed: 400; well-formed but not listed: the fallback only", schema: { type: "string", pattern: "^[A-Za-z]{2}$" } }],
    responses: { 200: "CrisisResourcesResponse", 304: null }, errors: [400, 401],
  },
  { route: "POST /v1/crisis/activate", function: "Crisis", summary: "Crisis mode on all devices; answers with the resources", auth: true, body: "CrisisActivateRequest", responses: { 200: "CrisisResourcesResponse" }, errors: AUTH_ERRORS },
  { route: "POST /v1/crisis/resolve", function: "Crisis", summary: "Leave crisis mode", auth: true, body: "CrisisResolveRequest", responses: { 200: "CrisisResolveResponse" }, errors: AUTH_ERRORS },
  { route: "PUT /v1/crisis/safety-plan", function: "Crisis", summary: "Write the safety plan (crisis priority, synchronous)", auth: true, deviceHeader: true, body: "SafetyPlanRequest", responses: { 200: "CrisisWriteResponse" }, errors: AUTH_ERRORS },
  { route: "DELETE /v1/crisis/safety-plan", function: "Crisis", summary: "Clear the safety plan (the only way to empty it; crisis priority, synchronous)", auth: true, deviceHeader: true, responses: { 200: "CrisisWriteResponse" }, errors: AUTH_ERRORS },
  { route: "PUT /v1/crisis/contacts", function: "Crisis", summary: "Write the emergency contacts (crisis priority, synchronous)", auth: true, deviceHeader: true, body: "EmergencyContactsRequest", responses: { 200: "CrisisWriteResponse" }, errors: AUTH_ERRORS },
  { route: "PUT /v1/crisis/region", function: "Crisis", summary: "Save the user's region for the crisis lines (used when a call sends no ?region=)", auth: true, body: "CrisisRegionRequest", responses: { 200: "CrisisRegionResponse" }, errors: [400, 401] },
  { route: "GET /admin/crisis-directory", function: "Admin", summary: "The current crisis directory version (operators: Authorization: Bearer <ops token>)", auth: false, responses: { 200: "CrisisDirectoryVersion" }, errors: [401] },
  { route: "PUT /admin/crisis-directory", function: "Admin", summary: "Store a new crisis directory version, current + 1 (operators: Authorization: Bearer <ops token>); audited", auth: false, body: "CrisisDirectory", responses: { 200: "CrisisDirectoryVersion" }, errors: [400, 401, 413] },
] as const satisfies readonly ApiRoute[];

export type RouteKey = (typeof API_ROUTES)[number]["route"];
/** The route keys a function serves: its router must handle exactly these. */
export type RouteKeyOf<F extends ApiFunction> = Extract<(typeof API_ROUTES)[number], { function: F }>["route"];

/** The route keys one function serves. */
export function routesOf(fn: ApiFunction): RouteKey[] {
  return API_ROUTES.filter((route) => route.function === fn).map((route) => route.route);
}
