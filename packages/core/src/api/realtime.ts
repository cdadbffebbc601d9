/**
 * The realtime socket (SPEC.md §4.1): `wss://…/v1/realtime?token=<JWT>&deviceId=<id>` — an API
 * Gateway WebSocket API in AWS, the local gateway's `ws://127.0.0.1:PORT/v1/realtime`. The
 * server sends only pokes; a client sends nothing.
 *
 * @example
 * const { token, deviceId } = RealtimeConnectQuerySchema.parse(event.queryStringParameters ?? {});
 * socket.send(JSON.stringify(PokeMessageSchema.parse({ type: "poke", priority: 10 })));
 */
import { z } from "zod";
import { IdSchema, PrioritySchema } from "./common.js";

export const REALTIME_PATH = "/v1/realtime";

/** The WebSocket API's routes: a client connects and disconnects; it sends no messages. */
export const REALTIME_ROUTES = ["$connect", "$disconnect"] as const;
export type RealtimeRoute = (typeof REALTIME_ROUTES)[number];

/** Browsers cannot set headers on a WebSocket: the token travels in the query string. */
export const RealtimeConnectQuerySchema = z.object({
  token: z.string().min(1).max(8192),
  deviceId: IdSchema,
});
export type RealtimeConnectQuery = z.infer<typeof RealtimeConnectQuerySchema>;

/** "Pull now": the priority of what waits, never what it is. */
export const PokeMessageSchema = z.strictObject({
  type: z.literal("poke"),
  priority: PrioritySchema,
});
export type PokeMessage = z.infer<typeof PokeMessageSchema>;
