import {
  ConflictIdParamsSchema, ConflictListResponseSchema, ConflictResolveRequestSchema, ConflictResolveResponseSchema,
  OptionalDeviceIdHeadersSchema,
} from "@paysync/core/api";
import { callerId, httpHandler, json, parseBody, parseValue, routeTable } from "@paysync/aws/http";
import { userKeyFor } from "@paysync/aws/identity";
import { ConflictStore } from "@paysync/aws/sync/conflict-store";
import { DeviceRepository } from "@paysync/aws/sync/device-repository";
import { auditSync } from "@paysync/aws/sync/sync-telemetry";

let store: ConflictStore | undefined;
let devices: DeviceRepository | undefined;

/** `GET /v1/sync/conflicts`, `POST /v1/sync/conflicts/{conflictId}/resolve` (optional `X-Device-Id`: the resolving device). */
export const handler = httpHandler(routeTable({
  "GET /v1/sync/conflicts": async (event) => {
    store ??= new ConflictStore();
    const conflicts = await store.list(userKeyFor(callerId(event)));
    return json(200, ConflictListResponseSchema.parse({ conflicts }));
  },
  "POST /v1/sync/conflicts/{conflictId}/resolve": async (event) => {
    const userKey = userKeyFor(callerId(event));
    const { conflictId } = parseValue(event.pathParameters ?? {}, ConflictIdParamsSchema, "path");
    const { "x-device-id": deviceId } = parseValue(event.headers ?? {}, OptionalDeviceIdHeadersSchema, "headers");
    const request = parseBody(event, ConflictResolveRequestSchema);
    store ??= new ConflictStore();
    devices ??= new DeviceRepository();
    if (deviceId !== undefined) await devices.get(userKey, deviceId);
    const resolved = ConflictResolveResponseSchema.parse(await store.resolve(userKey, conflictId, request, deviceId));
    await auditSync("sync.conflict_resolve", { userKey, entityType: resolved.entityType, outcome: resolved.resolution });
    return json(200, resolved);
  },
}));
