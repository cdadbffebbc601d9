import { RealtimeConnectQuerySchema } from "@paysync/core/api/realtime";
import { PaysyncError } from "@paysync/core/errors";
import { socketHandler, type SocketEvent, type SocketResult } from "@paysync/aws/base/socket";
import { isDependencyFault } from "@paysync/aws/base/http";
import { wiring } from "@paysync/aws/wiring";

/**
 * `$connect` of the realtime socket, after the authorizer: the device named in `?deviceId=` must
 * be a registered device of the caller, else 403 — the same for another user's device as for
 * none at all. Accepted, the connection is recorded (with its expiry) for pokes.
 */
export const handler = socketHandler(async (event: SocketEvent): Promise<SocketResult> => {
  const userKey = event.requestContext.authorizer?.userKey;
  const query = RealtimeConnectQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (typeof userKey !== "string" || !query.success) return { statusCode: 403 };
  try {
    await wiring.realtimeService().connect(userKey, query.data.deviceId, event.requestContext.connectionId);
    return { statusCode: 200 };
  } catch (error) {
    if (error instanceof PaysyncError && error.code === "not_found") return { statusCode: 403 };
    if (isDependencyFault(error)) return { statusCode: 503 };
    throw error;
  }
});
