import { buildOpenApiDocument } from "@paysync/core/api/openapi";
import type { ExtraRoute } from "./gateway.js";

let openApiBody: string | undefined;

/** `GET /openapi.json`: the document generated from the zod schemas (local only; AWS has no such route). */
export const openApiRoute: ExtraRoute = async (request, response, url) => {
  if (request.method !== "GET" || url.pathname !== "/openapi.json") return false;
  openApiBody ??= JSON.stringify(buildOpenApiDocument());
  response.writeHead(200, { "content-type": "application/json" });
  response.end(openApiBody);
  return true;
};
