import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import { PROTOCOL_HEADER, protocolRefusal } from "@paysync/core/api/protocol";
import type { ApiFunction, RouteKeyOf } from "@paysync/core/api/routes";
import { PaysyncError, UnauthorizedError, ValidationError, type ErrorCode } from "@paysync/core/errors";
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import type { z } from "zod";
import { logger, metrics, tracer } from "./observability.js";

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  limit_exceeded: 429,
  internal_error: 500,
  service_unavailable: 503,
  resync_required: 410,
  protocol_unsupported: 426,
  method_not_allowed: 405,
  headers_too_large: 431,
  timeout: 504,
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
    body: JSON.stringify(body),
  };
}

/** The one place errors become HTTP: codes map to status; unknown faults say nothing of their cause. */
export function errorResponse(error: unknown): HttpResult {
  if (error instanceof PaysyncError) {
    const headers: Record<string, string> = {};
    const details = error.details as { retryAfterSeconds?: number } | undefined;
    if (error.code === "limit_exceeded" && details?.retryAfterSeconds !== undefined) {
      headers["retry-after"] = String(Math.max(1, Math.ceil(details.retryAfterSeconds)));
    }
    if (error.code === "service_unavailable") headers["retry-after"] = "1";
    const body = { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
    return json(STATUS_BY_CODE[error.code], body, headers);
  }
  if (isDependencyFault(error)) {
    logger.warn("dependency unavailable", { errorName: (error as Error).name });
    return json(503, { error: { code: "service_unavailable", message: "A dependency is unavailable; retry shortly" } }, { "retry-after": "1" });
  }
  logger.error("unhandled fault", { errorName: error instanceof Error ? error.name : typeof error });
  return json(500, { error: { code: "internal_error", message: "The service failed; try again" } });
}

const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"]);

/** An AWS SDK or network failure: the request may be retried; nothing was half-written. */
export function isDependencyFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code !== undefined && NETWORK_ERRORS.has(code)) return true;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (metadata !== undefined) return metadata.httpStatusCode === undefined || metadata.httpStatusCode >= 500 || error.name.includes("Throttl");
  return error.name === "TimeoutError" || error.name === "AbortError";
}

/** The caller's user id: the JWT `sub` that the API's authorizer verified. */
export function callerId(event: HttpEvent): string {
  const sub = event.requestContext.authorizer?.jwt?.claims?.sub;
  if (typeof sub !== "string" || sub.length === 0) throw new UnauthorizedError();
  return sub;
}

// `ignoreBOM`: a byte-order mark stays in the text (and JSON.parse refuses it), as before.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The raw request body as API Gateway delivered it. Base64 bodies (binary content types, or
 * bytes that are not UTF-8) are decoded strictly: invalid UTF-8 is a 400, never silently
 * replaced by U+FFFD and stored.
 */
export function rawBody(event: HttpEvent): string {
  if (event.body === undefined || event.body === null) return "";
  if (!event.isBase64Encoded) return event.body;
  try {
    return UTF8.decode(Buffer.from(event.body, "base64"));
  } catch {
    throw new ValidationError("The request body is not valid UTF-8");
  }
}

function zodDetails(error: z.ZodError): unknown {
  return error.issues.map((issue) => ({ path: issue.path.map(String), code: issue.code, message: issue.message }));
}

/**
 * Deepest nesting a request body may have: far beyond any real payload, far below where
 * recursive code (zod's JSON schema, `JSON.stringify`) runs out of stack. `JSON.parse` itself
 * is iterative, so a body 100,000 levels deep parses and must be refused before anything else.
 */
export const MAX_BODY_DEPTH = 64;

/** Iterative, so the check itself cannot overflow the stack. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [current, depth] = next;
    if (typeof current !== "object" || current === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Parses and validates a JSON body; anything else is a 400 that names the problem. */
export function parseBody<S extends z.ZodType>(event: HttpEvent, schema: S): z.infer<S> {
  const text = rawBody(event);
  let value: unknown;
  try {
    value = text === "" ? undefined : JSON.parse(text);
  } catch {
    throw new ValidationError("The request body is not valid JSON");
  }
  if (nestedDeeperThan(value, MAX_BODY_DEPTH)) {
    throw new ValidationError(`The request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  }
  return parseValue(value, schema, "body");
}

/** Validates any input (query, path, header) with a zod schema. */
export function parseValue<S extends z.ZodType>(value: unknown, schema: S, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(`Invalid ${what}`, zodDetails(result.error));
  return result.data;
}

export function header(event: HttpEvent, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()];
}

export type RouteHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/**
 * Wraps a route handler once for every function: a trace segment (no request or response data),
 * the logger's Lambda context (never the event), one metrics flush with a cold-start metric
 * and a `Responses` count by status class, the protocol-version check (426 outside the range,
 * never on the crisis routes), and errors mapped to JSON.
 *
 * @example
 * export const handler = httpHandler(async (event) => json(200, { ok: true }));
 */
export function httpHandler(route: RouteHandler) {
  return middy<HttpEvent, HttpResult>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(async (event, context) => {
      let result: HttpResult;
      try {
        // Before anything else: a device speaking another protocol version changes nothing.
        const refusal = protocolRefusal(event.routeKey, header(event, PROTOCOL_HEADER));
        if (refusal) throw refusal;
        result = await route(event, context);
      } catch (error) {
        result = errorResponse(error);
      }
      metrics.addDimensions({ statusClass: `${Math.floor((result.statusCode ?? 200) / 100)}xx` });
      metrics.addMetric("Responses", MetricUnit.Count, 1);
      return result;
    });
}

/**
 * Dispatch by API Gateway route key for a function serving several routes: exactly the routes
 * the API manifest gives the function (a missing or extra one fails type-checking).
 *
 * @example
 * export const handler = httpHandler(routeTable<"Devices">({ "POST /v1/devices": register, … }));
 */
export function routeTable<F extends ApiFunction>(routes: Record<RouteKeyOf<F>, RouteHandler>): RouteHandler {
  const byKey: Record<string, RouteHandler | undefined> = routes;
  return async (event, context) => {
    const route = byKey[event.routeKey];
    if (!route) return json(404, { error: { code: "not_found", message: "No such route" } });
    return route(event, context);
  };
}
