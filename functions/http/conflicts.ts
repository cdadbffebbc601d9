import {
  ConflictIdParamsSchema, ConflictListResponseSchema, ConflictResolveRequestSchema, ConflictResolveResponseSchema,
  OptionalDeviceIdHeadersSchema,
} from "@paysync/core/api";
import { callerId, httpHandler, json, parseBody, parseValue, routeTable } from "@paysync/aws/base/http";
import { userKeyFor } from "@paysync/aws/crypto/pseudonyms";
import { wiring } from "@paysync/aws/wiring";

/** `GET /v1/sync/conflicts`, `POST /v1/sync/conflicts/{conflictId}/resolve` (optional `X-Device-Id`: the resolving device). */
export const handler = httpHandler(routeTable<"Conflicts">({
  "GET /v1/sync/conflicts": async (event) => {
    const conflicts = await wiring.conflictService().list(userKeyFor(callerId(event)));
    return json(200, ConflictListResponseSchema.parse({ conflicts }));
  },
  "POST /v1/sync/conflicts/{conflictId}/resolve": async (event) => {
    const userKey = userKeyFor(callerId(event));
    const { conflictId } = parseValue(event.pathParameters ?? {}, ConflictIdParamsSchema, "path");
    const { "x-device-id": deviceId } = parseValue(event.headers ?? {}, OptionalDeviceIdHeadersSchema, "headers");
    const request = parseBody(event, ConflictResolveRequestSchema);
    if (deviceId !== undefined) await wiring.devices().get(userKey, deviceId);
    const resolved = ConflictResolveResponseSchema.parse(await wiring.conflictService().resolve(userKey, conflictId, request, deviceId));
    await wiring.syncTelemetry().audit("sync.conflict_resolve", { userKey, entityType: resolved.entityType, outcome: resolved.resolution });
    return json(200, resolved);
  },
}));
