import { socketHandler, type SocketEvent, type SocketResult } from "@paysync/aws/base/socket";
import { wiring } from "@paysync/aws/wiring";

/** `$disconnect` of the realtime socket: the connection's records go (they would expire anyway). */
export const handler = socketHandler(async (event: SocketEvent): Promise<SocketResult> => {
  await wiring.realtimeService().disconnect(event.requestContext.connectionId);
  return { statusCode: 200 };
});
