import { DeviceIdHeadersSchema, SyncPushRequestSchema, SyncPushResponseSchema } from "@paysync/core/api";
import { PaysyncError } from "@paysync/core/errors";
import { callerId, httpHandler, json, parseBody, parseValue } from "@paysync/aws/base/http";
import { userKeyFor } from "@paysync/aws/crypto/pseudonyms";
import { wiring } from "@paysync/aws/wiring";

/**
 * `POST /v1/sync/push` (header `X-Device-Id`): 200 with a result per op (some possibly
 * `rejected` by a limit, with `Retry-After`); 429 when every op was refused by a limit;
 * 413 when a payload is over 256 KiB; crisis ops applied before the answer.
 */
export const handler = httpHandler(async (event) => {
  const receivedAt = new Date();
  const userKey = userKeyFor(callerId(event));
  const { "x-device-id": deviceId } = parseValue(event.headers ?? {}, DeviceIdHeadersSchema, "headers");
  const { ops } = parseBody(event, SyncPushRequestSchema);
  const { results, answer } = await wiring.pushService().push({ userKey, deviceId, ops, receivedAt });
  const body = SyncPushResponseSchema.parse({ results });
  await wiring.syncTelemetry().audit("sync.push", { userKey, outcome: answer.status === 200 ? "ok" : answer.limit, latencyMs: Date.now() - receivedAt.getTime() });
  if (answer.status === 429) {
    throw new PaysyncError("limit_exceeded", answer.message, { limit: answer.limit, retryAfterSeconds: answer.retryAfterSeconds, results: body.results });
  }
  return json(200, body, answer.retryAfterSeconds === undefined ? {} : { "retry-after": String(answer.retryAfterSeconds) });
});
