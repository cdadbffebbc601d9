import { DeviceIdParamsSchema, DeviceRegistrationRequestSchema } from "@paysync/core/api";
import type { DeviceRecord } from "@paysync/core/ports";
import { callerId, httpHandler, json, parseBody, parseValue, routeTable } from "@paysync/aws/base/http";
import { userKeyFor } from "@paysync/aws/crypto/pseudonyms";
import { wiring } from "@paysync/aws/wiring";

/** The wire shape: internal state (crisis mode, sessions, pull and poke times) stays on the server. */
const publicDevice = ({ crisisMode: _crisis, activeSessionId: _session, lastPull: _pull, pokedAtMs: _poked, ...device }: DeviceRecord) => device;

/** `POST/GET /v1/devices`, `DELETE /v1/devices/{deviceId}`. */
export const handler = httpHandler(routeTable<"Devices">({
  "POST /v1/devices": async (event) => {
    const request = parseBody(event, DeviceRegistrationRequestSchema);
    const { device, created } = await wiring.devices().register(userKeyFor(callerId(event)), request);
    return json(created ? 201 : 200, publicDevice(device));
  },
  "GET /v1/devices": async (event) => {
    const list = await wiring.devices().list(userKeyFor(callerId(event)));
    return json(200, { devices: list.map(publicDevice) });
  },
  "DELETE /v1/devices/{deviceId}": async (event) => {
    const { deviceId } = parseValue(event.pathParameters ?? {}, DeviceIdParamsSchema, "path");
    await wiring.devices().remove(userKeyFor(callerId(event)), deviceId);
    return { statusCode: 204 };
  },
}));
