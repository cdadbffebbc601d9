import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { ROUTES, type RouteDefinition } from "@paysync/aws/resources";
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

function matchRoute(method: string, path: string) {
  let pathMatched = false;
  for (const route of COMPILED) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const pathParameters: Record<string, string> = {};
    try {
      route.params.forEach((name, i) => { pathParameters[name] = decodeURIComponent(match[i + 1] ?? ""); });
    } catch {
      // Malformed percent-encoding (`%E0%A4%A`): API Gateway answers 400 before any function runs.
      return "bad_request";
    }
    return { route, pathParameters };
  }
  return pathMatched ? "method_not_allowed" : undefined;
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

export type ExtraRoute = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean>;

export interface GatewayOptions {
  port: number;
  /** Where the handlers run. */
  host: FunctionHost;
  jwtSecret: string;
  /** Local-only pages (OpenAPI, ops dashboard) tried before the API routes. */
  extraRoutes?: ExtraRoute[];
}

/**
 * The local stand-in for API Gateway (HTTP API, payload v2): route match, JWT check as
 * the authorizer does it, a v2 event to the same handler Lambda runs, its result back.
 */
export async function startGateway(options: GatewayOptions): Promise<{ server: Server; port: number; stop(): Promise<void> }> {
  const server = createServer((request, response) => {
    handle(request, response, options).catch(() => {
      if (!response.headersSent) send(response, 500, JSON.stringify({ message: "Internal Server Error" }));
      else response.end();
    });
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
  const url = new URL(request.url ?? "/", "http://localhost");
  for (const extra of options.extraRoutes ?? []) {
    if (await extra(request, response, url)) return;
  }
  const method = request.method ?? "GET";
  const matched = matchRoute(method, url.pathname);
  if (matched === undefined) return send(response, 404, JSON.stringify({ message: "Not Found" }));
  if (matched === "method_not_allowed") return send(response, 404, JSON.stringify({ message: "Not Found" }));
  if (matched === "bad_request") return send(response, 400, JSON.stringify({ message: "Bad Request" }));
  const { route, pathParameters } = matched;

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  let claims: Record<string, string | number | boolean | string[]> = {};
  if (route.definition.auth) {
    const payload = await verifyBearer(options.jwtSecret, headers.authorization);
    if (!payload) return send(response, 401, JSON.stringify({ message: "Unauthorized" }), { "www-authenticate": "Bearer" });
    claims = Object.fromEntries(
      Object.entries(payload).filter(([, v]) => ["string", "number", "boolean"].includes(typeof v)),
    ) as Record<string, string | number | boolean>;
  }
  const body = await readBody(request);
  if (body === "too_large") return send(response, 413, JSON.stringify({ message: "Request Entity Too Large" }));
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

  const result = (await options.host.invoke(route.definition.function, event)) as APIGatewayProxyStructuredResultV2 | string | undefined;
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
