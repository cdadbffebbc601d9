import { RealtimeConnectQuerySchema } from "@paysync/core/api/realtime";
import { socketHandler, type SocketAuthorizerEvent, type SocketAuthorizerResult } from "@paysync/aws/base/socket";
import { verifyUserToken } from "@paysync/aws/base/tokens";
import { userKeyFor } from "@paysync/aws/crypto/pseudonyms";

/**
 * The WebSocket API's `$connect` authorizer: the user's JWT from `?token=` (browsers cannot set
 * headers on a WebSocket), verified as the HTTP API's authorizer would. Allowed, it hands the
 * connection only the pseudonymous user key; refused, API Gateway answers 401 and the
 * connection never opens. Whether the device is the caller's is `$connect`'s question.
 */
export const handler = socketHandler(async (event: SocketAuthorizerEvent): Promise<SocketAuthorizerResult> => {
  const query = RealtimeConnectQuerySchema.safeParse(event.queryStringParameters ?? {});
  const sub = query.success ? await verifyUserToken(query.data.token) : undefined;
  // API Gateway's own answer to "Unauthorized": 401, nothing else said.
  if (sub === undefined) throw new Error("Unauthorized");
  const userKey = userKeyFor(sub);
  return {
    principalId: userKey,
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }] },
    context: { userKey },
  };
});
