import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { OpsSummary } from "@paysync/core/ops/summary-schema";
import type { ExtraRoute } from "../gateway.js";

/**
 * `/ops`: the operators' dashboard, admin-only (local runtime only; in AWS the same numbers are
 * CloudWatch metrics, see docs/OPERATIONS.md).
 *
 * - `GET /ops?token=<admin token>`: checks the token, sets an HttpOnly session cookie and
 *   redirects to `/ops`, so the token leaves the address bar and the browser history.
 * - `GET /ops`, `/ops/dashboard.js`, `/ops/dashboard.css`: the page (static HTML, vanilla JS).
 * - `GET /ops/api/summary[?window=<minutes>]`: the numbers, as JSON.
 *
 * Every path needs `Authorization: Bearer <admin token>` or the cookie; anything else is 401.
 *
 * @example
 * startGateway({ …, extraRoutes: [opsRoute({ adminToken, summary: (w) => reader.read({ windowMinutes: w }) })] });
 */
export interface OpsRouteOptions {
  adminToken: string;
  summary(windowMinutes: number | undefined): Promise<OpsSummary>;
}

const COOKIE = "paysync_ops";
const ASSETS: Record<string, { file: string; type: string }> = {
  "/ops": { file: "dashboard.html", type: "text/html; charset=utf-8" },
  "/ops/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/ops/dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
};
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};
const UNAUTHORIZED_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>paysync ops: sign in</title>
<link rel="icon" href="data:,"></head><body><h1>401 — admin token required</h1>
<p>Open the URL printed by <code>npm start</code> or <code>npx paysync ops</code> (<code>/ops?token=…</code>).</p></body></html>`;

const assetCache = new Map<string, string>();
function asset(file: string): string {
  let text = assetCache.get(file);
  if (text === undefined) {
    text = readFileSync(new URL(file, import.meta.url), "utf8");
    assetCache.set(file, text);
  }
  return text;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

function send(response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, ...headers });
  response.end(body);
}

export function opsRoute(options: OpsRouteOptions): ExtraRoute {
  // The cookie carries a value derived from the token, never the token itself.
  const session = createHmac("sha256", options.adminToken).update("paysync-ops-session").digest("hex");
  const authorized = (request: IncomingMessage): boolean => {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    if (bearer !== undefined) return sameSecret(bearer, options.adminToken);
    const value = cookie(request, COOKIE);
    return value !== undefined && sameSecret(value, session);
  };

  return async (request, response, url) => {
    if (url.pathname !== "/ops" && !url.pathname.startsWith("/ops/")) return false;
    const json = url.pathname.startsWith("/ops/api/");
    if (request.method !== "GET") {
      send(response, 405, "application/json", JSON.stringify({ error: { code: "method_not_allowed", message: "GET only" } }), { allow: "GET" });
      return true;
    }
    const token = url.searchParams.get("token");
    if (url.pathname === "/ops" && token !== null) {
      if (!sameSecret(token, options.adminToken)) {
        send(response, 401, "text/html; charset=utf-8", UNAUTHORIZED_PAGE);
        return true;
      }
      send(response, 303, "text/plain; charset=utf-8", "", {
        location: "/ops",
        "set-cookie": `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/ops; Max-Age=43200`,
      });
      return true;
    }
    if (!authorized(request)) {
      if (json) send(response, 401, "application/json", JSON.stringify({ error: { code: "unauthorized", message: "Admin token required" } }), { "www-authenticate": "Bearer" });
      else send(response, 401, "text/html; charset=utf-8", UNAUTHORIZED_PAGE, { "www-authenticate": "Bearer" });
      return true;
    }
    if (url.pathname === "/ops/api/summary") {
      const window = url.searchParams.get("window");
      const summary = await options.summary(window === null ? undefined : Number(window));
      send(response, 200, "application/json", JSON.stringify(summary));
      return true;
    }
    const file = ASSETS[url.pathname];
    if (file) send(response, 200, file.type, asset(file.file));
    else send(response, 404, "application/json", JSON.stringify({ error: { code: "not_found", message: "Not Found" } }));
    return true;
  };
}
