import { Stack } from "aws-cdk-lib";
import { use, WebSocketApi, type StackContext } from "sst/constructs";
import { REALTIME } from "@paysync/aws/resources";
import { jwtAudiences, jwtIssuer } from "./auth.js";
import { createFunction, type RealtimeGrant } from "./grants.js";
import { Storage } from "./Storage.js";

/** Access log fields of the socket: no caller IP, no query string (it carries the token). */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestTime: "$context.requestTime",
  requestId: "$context.requestId",
  routeKey: "$context.routeKey",
  eventType: "$context.eventType",
  status: "$context.status",
  integrationLatency: "$context.integrationLatency",
  authorizerError: "$context.authorizer.error",
});

/**
 * The realtime socket (SPEC.md §4.1): an API Gateway WebSocket API whose `$connect` a Lambda
 * authorizer guards (WebSocket APIs take no JWT authorizer): the user's JWT from `?token=`,
 * verified against the same issuer and audiences as the HTTP API. `$connect` records the
 * connection of a device of the caller's (403 otherwise), `$disconnect` forgets it.
 *
 * Its URL is the `RealtimeUrl` output (`wss://<api>.execute-api.<region>.amazonaws.com/ws`);
 * behind a custom domain, map the `ws` stage at `/v1/realtime` and clients find it where the
 * local gateway serves it. Only the functions that poke (FUNCTIONS' `pokes`) get
 * `execute-api:ManageConnections`, for POST to connections — not the socket's own functions.
 */
export function Realtime({ stack }: StackContext) {
  const storage = use(Storage);
  const authorizer = createFunction(stack, REALTIME.authorizer, storage, {
    environment: { PAYSYNC_JWT_ISSUER: jwtIssuer(), PAYSYNC_JWT_AUDIENCE: jwtAudiences().join(",") },
  });
  const api = new WebSocketApi(stack, "RealtimeApi", {
    authorizer: { type: "lambda", name: "RealtimeToken", function: authorizer, identitySource: ["route.request.querystring.token"] },
    accessLog: { format: ACCESS_LOG_FORMAT, retention: "one_month" },
    cdk: { webSocketStage: { stageName: "ws" } },
  });
  // SST grants ManageConnections to every route function of the API; here only the poking
  // functions may post to connections, so the routes are added without that grant.
  (api as unknown as { permissionsAttachedForAllRoutes: unknown[] }).permissionsAttachedForAllRoutes = [];
  api.addRoutes(stack, Object.fromEntries(Object.entries(REALTIME.routes).map(([route, fn]) => [route, { function: createFunction(stack, fn, storage) }])));

  const realtime: RealtimeGrant = {
    endpoint: api.cdk.webSocketStage.callbackUrl,
    connectionsArn: Stack.of(stack).formatArn({ service: "execute-api", resource: api.cdk.webSocketApi.apiId, resourceName: "*/POST/@connections/*" }),
  };
  stack.addOutputs({ RealtimeUrl: api.url });
  return { api, realtime };
}
