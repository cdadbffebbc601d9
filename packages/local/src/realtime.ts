/**
 * The local stand-in for the API Gateway WebSocket API (SPEC.md §4.1), on the gateway's port:
 *
 * - `ws://127.0.0.1:PORT/v1/realtime?token=&deviceId=` runs the very handlers AWS runs: the
 *   `$connect` authorizer (401 when it refuses), `$connect` (its non-2xx refuses the upgrade),
 *   `$disconnect` when the socket closes;
 * - `POST|GET|DELETE /@connections/{connectionId}` under {@link MANAGEMENT_PATH}: the management
 *   API, so the functions' `ApiGatewayManagementApiClient` (endpoint `<baseUrl>/_realtime`)
 *   posts to it unchanged; an unknown connection answers 410 `GoneException`, as AWS does.
 *
 * A connection lives at most two hours, as in AWS.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { REALTIME_PATH } from "@paysync/core/api/realtime";
import { REALTIME } from "@paysync/aws/resources";
import type { FunctionHost } from "./function-host.js";
import type { ExtraRoute } from "./gateway.js";

/** Where the management API lives on the gateway: the SDK client's endpoint is `<baseUrl>` + this. */
export const MANAGEMENT_PATH = "/_realtime";
const MAX_CONNECTION_MS = 2 * 3600 * 1000;
const MAX_POKE_BYTES = 128 * 1024;

interface Live {
  socket: WebSocket;
  connectedAt: string;
  lastActiveAt: string;
  sourceIp: string;
}

export interface LocalRealtime {
  /** The management API, for the gateway's extra routes. */
  managementRoute: ExtraRoute;
  /** Serves the WebSocket route on the gateway's server. */
  attach(server: Server): void;
  /** Open connections (for tests and the ops view). */
  readonly size: number;
  stop(): void;
}

/** An id like API Gateway's: opaque, URL-safe. */
const newConnectionId = () => randomBytes(12).toString("base64url");

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ error: { code: status === 401 ? "unauthorized" : "forbidden", message: reason } });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export function localRealtime(host: FunctionHost): LocalRealtime {
  const live = new Map<string, Live>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname !== REALTIME_PATH) return refuse(socket, 404, "Not Found");
    const queryStringParameters = Object.fromEntries(url.searchParams.entries());
    const connectionId = newConnectionId();
    let authorizer: Record<string, unknown>;
    try {
      const allowed = await host.invoke(REALTIME.authorizer, {
        type: "REQUEST", methodArn: "arn:aws:execute-api:us-east-1:000000000000:local/$default/$connect", queryStringParameters,
      }) as { context?: Record<string, unknown> };
      authorizer = allowed.context ?? {};
    } catch {
      return refuse(socket, 401, "Unauthorized");
    }
    const connected = await host.invoke(REALTIME.routes.$connect, {
      queryStringParameters, requestContext: { connectionId, routeKey: "$connect", authorizer },
    }) as { statusCode?: number } | undefined;
    const status = connected?.statusCode ?? 500;
    if (status < 200 || status >= 300) return refuse(socket, status === 403 ? 403 : 500, status === 403 ? "Forbidden" : "Internal Server Error");
    wss.handleUpgrade(request, socket, head, (ws) => {
      const now = new Date().toISOString();
      live.set(connectionId, { socket: ws, connectedAt: now, lastActiveAt: now, sourceIp: request.socket.remoteAddress ?? "127.0.0.1" });
      const expiry = setTimeout(() => ws.close(1001, "Going away"), MAX_CONNECTION_MS);
      expiry.unref();
      ws.on("message", () => {
        const entry = live.get(connectionId);
        if (entry) entry.lastActiveAt = new Date().toISOString();
      });
      ws.on("close", () => {
        clearTimeout(expiry);
        live.delete(connectionId);
        host.invoke(REALTIME.routes.$disconnect, { requestContext: { connectionId, routeKey: "$disconnect", authorizer } }).catch(() => undefined);
      });
    });
  }

  const managementRoute: ExtraRoute = async (request, response, url) => {
    const match = new RegExp(`^${MANAGEMENT_PATH}/@connections/([^/]+)$`).exec(url.pathname);
    if (!match?.[1]) return false;
    const connectionId = decodeURIComponent(match[1]);
    const entry = live.get(connectionId);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size <= MAX_POKE_BYTES) chunks.push(chunk as Buffer);
    }
    if (!entry || entry.socket.readyState !== entry.socket.OPEN) {
      response.writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" });
      response.end(JSON.stringify({ message: "Gone" }));
      return true;
    }
    if (request.method === "POST") {
      if (size > MAX_POKE_BYTES) {
        response.writeHead(413, { "content-type": "application/json", "x-amzn-errortype": "PayloadTooLargeException" });
        response.end(JSON.stringify({ message: "Payload too large" }));
        return true;
      }
      entry.socket.send(Buffer.concat(chunks).toString("utf8"));
      response.writeHead(200, { "content-type": "application/json" });
      response.end("{}");
    } else if (request.method === "DELETE") {
      entry.socket.close(1000, "Closed by the server");
      response.writeHead(204);
      response.end();
    } else {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ ConnectedAt: entry.connectedAt, LastActiveAt: entry.lastActiveAt, Identity: { SourceIp: entry.sourceIp } }));
    }
    return true;
  };

  return {
    managementRoute,
    attach(server) {
      server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        upgrade(request, socket, head).catch(() => refuse(socket, 500, "Internal Server Error"));
      });
    },
    get size() {
      return live.size;
    },
    stop() {
      for (const entry of live.values()) entry.socket.terminate();
      live.clear();
      wss.close();
    },
  };
}
