import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { errorResponse, type HttpResult } from "@paysync/aws/base/http";
import { ROUTES, type FunctionId, type RouteDefinition } from "@paysync/aws/resources";
import { PaysyncError, PayloadTooLargeError, UnauthorizedError, type ErrorCode } from "@paysync/core/errors";
import type { FunctionHost } from "./function-host.js";
import { verifyBearer } from "./jwt.js";

/** Lambda's synchronous invocation payload limit: larger requests never reach a handler in AWS either. */
const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

interface CompiledRoute {
  definition: RouteDefinition;
  method: string;
  pattern: RegExp;
  params: string[];
}

function compile(definition: RouteDefinition): CompiledRoute {
  const [method = "", path = ""] = definition.route.split(" ");
  const params: string[] = [];
  const source = path
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param?.[1]) return segment.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      params.push(param[1]);
      return "([^/]+)";
    })
    .join("/");
  return { definition, method, pattern: new RegExp(`^${source}$`), params };
}

const COMPILED = ROUTES.map(compile);

type RouteMatch =
  | { route: CompiledRoute; pathParameters: Record<string, string> }
  | { refused: "bad_encoding" }
  | { refused: "method_not_allowed"; allow: string[] }
  | undefined;

function matchRoute(method: string, path: string): RouteMatch {
  const allow: string[] = [];
  for (const route of COMPILED) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method !== method) {
      allow.push(route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    try {
      route.params.forEach((name, i) => { pathParameters[name] = decodeURIComponent(match[i + 1] ?? ""); });
    } catch {
      // Malformed percent-encoding (`%E0%A4%A`): API Gateway answers 400 before any function runs.
      return { refused: "bad_encoding" };
    }
    return { route, pathParameters };
  }
  return allow.length > 0 ? { refused: "method_not_allowed", allow: [...new Set(allow)].sort() } : undefined;
}

/** Whether every `%XX` of a query string decodes to UTF-8 (`URLSearchParams` would silently put U+FFFD in). */
function wellEncodedQuery(rawQuery: string): boolean {
  try {
    for (const part of rawQuery.split(/[&=]/)) decodeURIComponent(part.replace(/\+/g, " "));
    return true;
  } catch {
    return false;
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer | "too_large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return "too_large";
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const TEXT_TYPES = /^(application\/(json|[\w.+-]+\+json|x-www-form-urlencoded)|text\/)/i;

function send(response: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(body);
}

/**
 * Every answer the gateway gives itself (no function ran): the same mapper as the handlers'
 * (`errorResponse`), so a 401, 404, 405, 413, 431 or timeout has the SPEC error shape
 * `{"error": {"code", "message"}}` like any other error.
 */
function gatewayError(code: ErrorCode, message: string, headers: Record<string, string> = {}): HttpResult {
  const result = errorResponse(new PaysyncError(code, message));
  return { ...result, headers: { ...result.headers, ...headers } };
}

/** Headers are refused by Node's parser before a request exists: the answer goes on the bare socket. */
function rawAnswer(result: HttpResult): string {
  const body = result.body ?? "";
  const reason = STATUS_CODES[result.statusCode ?? 500] ?? "Error";
  const headers = { ...result.headers, "content-length": String(Buffer.byteLength(body)), connection: "close" };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${String(value)}`);
  return `HTTP/1.1 ${result.statusCode ?? 500} ${reason}\r\n${lines.join("\r\n")}\r\n\r\n${body}`;
}

/**
 * The most header bytes a request may carry: API Gateway's own quota ("total combined size of
 * request line and header values", 10 KiB). Beyond it: 431, as a JSON error.
 */
export const MAX_HEADER_BYTES = 10 * 1024;
/** API Gateway's integration timeout: a function still running after this is answered for. */
export const INTEGRATION_TIMEOUT_MS = 30_000;

export class InvocationTimeout extends Error {}

/**
 * The invocation, bounded by the function's own timeout (what Lambda enforces) and the
 * integration timeout. A late result is dropped, as Lambda drops a timed-out invocation's.
 */
function invokeWithin(host: FunctionHost, functionId: FunctionId, event: unknown, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvocationTimeout(`${functionId} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([host.invoke(functionId, event), expired]).finally(() => clearTimeout(timer));
}

export type ExtraRoute = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean>;

export interface GatewayOptions {
  port: number;
  /** Where the handlers run. */
  host: FunctionHost;
  jwtSecret: string;
  /** Local-only pages (OpenAPI, ops dashboard) tried before the API routes. */
  extraRoutes?: ExtraRoute[];
  /** How long an invocation may run (default: the integration timeout). */
  invocationTimeoutMs?: (functionId: FunctionId) => number;
}

/**
 * Locally only the integration timeout applies, not each function's `timeoutSeconds`: a local
 * first invocation compiles TypeScript in its thread, which Lambda does at init, outside the
 * function's timeout.
 */
function defaultTimeoutMs(): number {
  return INTEGRATION_TIMEOUT_MS;
}

/**
 * The local stand-in for API Gateway (HTTP API, payload v2): route match, JWT check as
 * the authorizer does it, a v2 event to the same handler Lambda runs, its result back.
 */
export async function startGateway(options: GatewayOptions): Promise<{ server: Server; port: number; stop(): Promise<void> }> {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      if (response.headersSent) return response.end();
      // A function that ran out of time is a 504; any other failure of the invocation is a 500
      // that says nothing of its cause.
      writeResult(response, error instanceof InvocationTimeout
        ? gatewayError("timeout", "The function did not answer in time; retry shortly", { "retry-after": "1" })
        : errorResponse(error));
    });
  });
  // Requests Node's parser refuses (headers too large, malformed request lines) get JSON errors too.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) return socket.destroy();
    const result = error.code === "HPE_HEADER_OVERFLOW"
      ? gatewayError("headers_too_large", `The request's headers exceed ${MAX_HEADER_BYTES} bytes`)
      : gatewayError("validation_error", "The request is not valid HTTP");
    socket.end(rawAnswer(result));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    server,
    port,
    stop: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: GatewayOptions) {
  let url: URL;
  try {
    url = new URL(request.url ?? "/", "http://localhost");
  } catch {
    return writeResult(response, gatewayError("validation_error", "The request target is not a valid URL"));
  }
  for (const extra of options.extraRoutes ?? []) {
    if (await extra(request, response, url)) return;
  }
  const method = request.method ?? "GET";
  const matched = matchRoute(method, url.pathname);
  if (matched === undefined) return writeResult(response, gatewayError("not_found", "No such route"));
  if ("refused" in matched) {
    if (matched.refused === "bad_encoding") return writeResult(response, gatewayError("validation_error", "The path has malformed percent-encoding"));
    // 405, not 404: the path exists; `Allow` names the methods it takes (RFC 9110 §15.5.6).
    return writeResult(response, gatewayError("method_not_allowed", `${method} is not allowed here`, { allow: matched.allow.join(", ") }));
  }
  if (!wellEncodedQuery(url.search.slice(1))) return writeResult(response, gatewayError("validation_error", "The query string has malformed percent-encoding"));
  const { route, pathParameters } = matched;

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  let claims: Record<string, string | number | boolean | string[]> = {};
  if (route.definition.auth) {
    const payload = await verifyBearer(options.jwtSecret, headers.authorization);
    if (!payload) return writeResult(response, gatewayError("unauthorized", new UnauthorizedError().message, { "www-authenticate": "Bearer" }));
    claims = Object.fromEntries(
      Object.entries(payload).filter(([, v]) => ["string", "number", "boolean"].includes(typeof v)),
    ) as Record<string, string | number | boolean>;
  }
  const body = await readBody(request);
  if (body === "too_large") return writeResult(response, errorResponse(new PayloadTooLargeError(`The request body exceeds ${MAX_REQUEST_BYTES} bytes`)));
  // Bytes that are not UTF-8 cannot be a string without loss: they go base64, as binary does.
  const isText = body.length === 0 || (TEXT_TYPES.test(headers["content-type"] ?? "application/json") && isUtf8(body));

  const now = Date.now();
  const event: APIGatewayProxyEventV2WithJWTAuthorizer = {
    version: "2.0",
    routeKey: route.definition.route,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters: queryParameters(url.searchParams) } : {}),
    ...(route.params.length ? { pathParameters } : {}),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: route.definition.route,
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
      authorizer: { principalId: "", integrationLatency: 0, jwt: { claims, scopes: [] } },
    },
    ...(body.length > 0 ? { body: isText ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };

  const functionId = route.definition.function;
  const timeoutMs = (options.invocationTimeoutMs ?? defaultTimeoutMs)(functionId);
  const result = (await invokeWithin(options.host, functionId, event, timeoutMs)) as APIGatewayProxyStructuredResultV2 | string | undefined;
  writeResult(response, result);
}

/** As API Gateway delivers them: a repeated parameter's values joined with commas (`a=1&a=2` → `"1,2"`). */
function queryParameters(params: URLSearchParams): Record<string, string> {
  // A Map, so a parameter named `__proto__` or `constructor` is a parameter like any other.
  const joined = new Map<string, string>();
  for (const [name, value] of params) {
    const before = joined.get(name);
    joined.set(name, before === undefined ? value : `${before},${value}`);
  }
  return Object.fromEntries(joined);
}

function writeResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | undefined) {
  if (typeof result === "string" || result === undefined) {
    return send(response, 200, result ?? "");
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const body = result.body === undefined ? "" : result.isBase64Encoded ? Buffer.from(result.body, "base64") : result.body;
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}
