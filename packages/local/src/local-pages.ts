import { buildOpenApiDocument } from "@paysync/core/api/openapi";
import type { ExtraRoute } from "./gateway.js";

let openApiBody: string | undefined;

/**
 * `GET /openapi.json`: the document generated from the zod schemas (local only; AWS has no such
 * route), its `servers` the address it is served from — the port of this run, not the default.
 */
export const openApiRoute: ExtraRoute = async (request, response, url) => {
  if (request.method !== "GET" || url.pathname !== "/openapi.json") return false;
  const address = request.socket.address();
  const port = "port" in address ? address.port : undefined;
  openApiBody ??= JSON.stringify(buildOpenApiDocument(port === undefined ? undefined : `http://127.0.0.1:${port}`));
  response.writeHead(200, { "content-type": "application/json" });
  response.end(openApiBody);
  return true;
};
