/**
 * The crisis function (issue 5): its own bundle, provisioned and reserved concurrency, no
 * payment code, no limits, no queue. Serves `GET /v1/crisis/resources`,
 * `POST /v1/crisis/activate`, `POST /v1/crisis/resolve`, `PUT /v1/crisis/safety-plan` and
 * `PUT /v1/crisis/contacts` and `DELETE /v1/crisis/safety-plan` (the writes name their device in `X-Device-Id`).
 * Resources answer the crisis directory's lines for `?region=` (else the saved region, else US)
 * with an ETag, and `304` to a matching `If-None-Match`. Every call's
 * duration is recorded (metric + audit entry), and a call over 200 ms is an SLO breach.
 * When storage fails every route still answers 200, marked `degraded: true` (docs/CRISIS.md).
 */
import type { Context } from "aws-lambda";
import {
  CrisisActivateRequestSchema,
  CrisisResolveRequestSchema,
  CrisisResolveResponseSchema,
  CrisisRegionRequestSchema,
  CrisisRegionResponseSchema,
  CrisisResourcesQuerySchema,
  CrisisResourcesResponseSchema,
  CrisisWriteResponseSchema,
  EmergencyContactsRequestSchema,
  SafetyPlanRequestSchema,
} from "@paysync/core/api/crisis";
import { DeviceIdHeadersSchema } from "@paysync/core/api/common";
import { normalizeRegion } from "@paysync/core/api/crisis-directory";
import { resourcesETag } from "@paysync/core/crisis/resources";
import { etagMatches } from "@paysync/core/etag";
import type { RouteKeyOf } from "@paysync/core/api/routes";
import { PaysyncError } from "@paysync/core/errors";
import { callerId, errorResponse, header, httpHandler, json, parseBody, parseValue, type HttpEvent, type HttpResult } from "@paysync/aws/base/http";
import type { CrisisRoute } from "@paysync/aws/crisis/crisis-telemetry";
import { userKeyFor } from "@paysync/aws/crypto/pseudonyms";
import { wiring } from "@paysync/aws/wiring";

const service = () => wiring.crisisService();

// Init phase: provisioned instances finish it before their first request. A missing binding
// is not reported here: the first request answers it, degraded, as it would without this.
await Promise.resolve().then(() => service().prepare()).catch(() => undefined);

/** Answers served in degraded mode, so that their audit entry says so. */
const degradedAnswers = new WeakSet<HttpResult>();

/** A 200 with the body validated by its schema; a degraded body is remembered as such. */
function answer<T extends { degraded?: true }>(schema: { parse: (value: unknown) => T }, value: unknown): HttpResult {
  const body = schema.parse(value);
  const result = json(200, body);
  if (body.degraded === true) degradedAnswers.add(result);
  return result;
}

/** Per user, so never in a shared cache; `no-cache`: devices revalidate with the ETag. */
const CACHE_CONTROL = "private, no-cache";

/** The resources answer with its ETag, or a `304` when the device holds it already; a degraded answer has no ETag. */
function resourcesAnswer(event: HttpEvent, value: unknown): HttpResult {
  const body = CrisisResourcesResponseSchema.parse(value);
  if (body.degraded === true) return answer(CrisisResourcesResponseSchema, body);
  const etag = resourcesETag(body);
  const headers = { etag, "cache-control": CACHE_CONTROL };
  if (etagMatches(header(event, "if-none-match"), etag)) return { statusCode: 304, headers };
  return json(200, body, headers);
}

type CrisisRouteHandler = (event: HttpEvent, userKey: string) => Promise<HttpResult>;

const ROUTES: Record<RouteKeyOf<"Crisis">, { name: CrisisRoute; entityType: string; run: CrisisRouteHandler }> = {
  "GET /v1/crisis/resources": {
    name: "resources", entityType: "crisis_state",
    run: async (event, userKey) => {
      const { region } = parseValue(event.queryStringParameters ?? {}, CrisisResourcesQuerySchema, "query");
      return resourcesAnswer(event, await service().resources(userKey, region));
    },
  },
  "POST /v1/crisis/activate": {
    name: "activate", entityType: "crisis_state",
    run: async (event, userKey) => {
      const request = parseBody(event, CrisisActivateRequestSchema);
      return answer(CrisisResourcesResponseSchema, await service().activate(userKey, request));
    },
  },
  "POST /v1/crisis/resolve": {
    name: "resolve", entityType: "crisis_state",
    run: async (event, userKey) => {
      const { deviceId } = parseBody(event, CrisisResolveRequestSchema);
      return answer(CrisisResolveResponseSchema, await service().resolve(userKey, deviceId));
    },
  },
  "PUT /v1/crisis/safety-plan": {
    name: "safety_plan", entityType: "safety_plan",
    run: async (event, userKey) => {
      const { "x-device-id": deviceId } = parseValue(event.headers ?? {}, DeviceIdHeadersSchema, "headers");
      const plan = parseBody(event, SafetyPlanRequestSchema);
      const written = await service().putSafetyPlan(userKey, deviceId, plan);
      return answer(CrisisWriteResponseSchema, { entityType: "safety_plan", priority: 10, ...written });
    },
  },
  "DELETE /v1/crisis/safety-plan": {
    name: "safety_plan", entityType: "safety_plan",
    run: async (event, userKey) => {
      const { "x-device-id": deviceId } = parseValue(event.headers ?? {}, DeviceIdHeadersSchema, "headers");
      const written = await service().clearSafetyPlan(userKey, deviceId);
      return answer(CrisisWriteResponseSchema, { entityType: "safety_plan", priority: 10, ...written });
    },
  },
  "PUT /v1/crisis/region": {
    name: "region", entityType: "crisis_state",
    run: async (event, userKey) => {
      const { region } = parseBody(event, CrisisRegionRequestSchema);
      return answer(CrisisRegionResponseSchema, await service().saveRegion(userKey, normalizeRegion(region)));
    },
  },
  "PUT /v1/crisis/contacts": {
    name: "contacts", entityType: "emergency_contacts",
    run: async (event, userKey) => {
      const { "x-device-id": deviceId } = parseValue(event.headers ?? {}, DeviceIdHeadersSchema, "headers");
      const { contacts } = parseBody(event, EmergencyContactsRequestSchema);
      const written = await service().putContacts(userKey, deviceId, contacts);
      return answer(CrisisWriteResponseSchema, { entityType: "emergency_contacts", priority: 10, ...written });
    },
  },
};

function outcomeOf(result: HttpResult, error: unknown): string {
  if (error instanceof PaysyncError) return error.code;
  if (error !== undefined) return "internal_error";
  if (degradedAnswers.has(result)) return "degraded";
  return result.statusCode !== undefined && result.statusCode < 400 ? "ok" : `http_${result.statusCode}`;
}

async function crisisRoute(event: HttpEvent, _context: Context): Promise<HttpResult> {
  const started = performance.now();
  const route = (ROUTES as Record<string, (typeof ROUTES)[RouteKeyOf<"Crisis">] | undefined>)[event.routeKey];
  if (!route) return json(404, { error: { code: "not_found", message: "No such route" } });
  let userKey: string | undefined;
  let result: HttpResult;
  let failure: unknown;
  try {
    userKey = userKeyFor(callerId(event));
    result = await route.run(event, userKey);
  } catch (error) {
    failure = error;
    result = errorResponse(error);
  }
  const latencyMs = performance.now() - started;
  await wiring.crisisTelemetry().record({
    route: route.name, outcome: outcomeOf(result, failure), latencyMs, entityType: route.entityType, priority: 10,
    ...(userKey === undefined ? {} : { userKey }),
  });
  return result;
}

export const handler = httpHandler(crisisRoute);
