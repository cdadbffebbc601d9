import { DeviceIdHeadersSchema, SyncPullQuerySchema } from "@paysync/core/api";
import { callerId, header, httpHandler, json, parseValue, routeTable, type RouteHandler } from "@paysync/aws/base/http";
import { usageReport } from "@paysync/core/sync/limits";
import { policyFor } from "@paysync/core/tiers";
import { deviceKeyFor, userKeyFor } from "@paysync/aws/crypto/pseudonyms";
import { wiring } from "@paysync/aws/wiring";

/** `Accept-Encoding` names gzip with a non-zero quality. */
function acceptsGzip(value: string | undefined): boolean {
  return (value ?? "").split(",").some((part) => {
    const [coding = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return (coding === "gzip" || coding === "*") && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/**
 * `GET /v1/sync/pull?cursor=&limit=` (header `X-Device-Id`): the changes for this device
 * after the cursor, gzip-compressed at the tier's level when the client accepts gzip.
 */
const pull: RouteHandler = async (event) => {
  const userKey = userKeyFor(callerId(event));
  const { "x-device-id": deviceId } = parseValue(event.headers ?? {}, DeviceIdHeadersSchema, "headers");
  const { cursor, limit } = parseValue(event.queryStringParameters ?? {}, SyncPullQuerySchema, "query");
  const page = await wiring.pullService().pull({ userKey, deviceId, cursor, limit, acceptsGzip: acceptsGzip(header(event, "accept-encoding")), now: new Date() });
  // One entry per page, bootstrap pages included: which device read how many changes, how many bytes.
  await wiring.readAudit().record({
    actor: "device", action: `read.pull.${page.response.phase}`, userKey, deviceKey: deviceKeyFor(userKey, deviceId), outcome: "ok",
    count: page.response.changes.length, bytes: page.body.length,
  });
  const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-store", vary: "accept-encoding" };
  if (!page.gzipped) return { statusCode: 200, headers, body: page.body.toString("utf8") };
  return { statusCode: 200, headers: { ...headers, "content-encoding": "gzip" }, body: page.body.toString("base64"), isBase64Encoded: true };
};

/** `GET /v1/me/usage`: served here because this function already reads the tier and the limits. */
const usage: RouteHandler = async (event) => {
  const userKey = userKeyFor(callerId(event));
  const now = new Date();
  const [tier, stored] = await Promise.all([wiring.tiers().effectiveTier(userKey), wiring.limits().storedUsage(userKey, now)]);
  return json(200, usageReport(policyFor(tier), stored, now.getTime()), { "cache-control": "private, no-store" });
};

export const handler = httpHandler(routeTable<"SyncPull">({ "GET /v1/sync/pull": pull, "GET /v1/me/usage": usage }));
