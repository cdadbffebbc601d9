import * as lambda from "aws-cdk-lib/aws-lambda";
import { Api as HttpApi, use, type ApiRouteProps, type Function, type StackContext } from "sst/constructs";
import { CRISIS_CAPACITY, ROUTES, type FunctionId } from "@paysync/aws/resources";
import { jwtAudiences, jwtIssuer } from "./auth.js";
import { createFunction } from "./grants.js";
import { Queues } from "./Queues.js";
import { Realtime } from "./Realtime.js";
import { Storage } from "./Storage.js";

/** The function that answers crisis routes, warm and with capacity no other load can take. */
const CRISIS: FunctionId = "Crisis";

/**
 * Access log fields: no caller IP, user agent or raw path (paths carry device and session
 * ids); the route key names the route without them.
 */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestTime: "$context.requestTime",
  requestId: "$context.requestId",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLatency: "$context.responseLatency",
  integrationStatus: "$context.integration.status",
  integrationLatency: "$context.integration.latency",
  integrationError: "$context.integration.error",
  authorizerError: "$context.authorizer.error",
});

/**
 * The HTTP API of ROUTES. A JWT authorizer (any OIDC issuer) guards every route but the
 * health check and the Stripe webhook. Each route's function is its own Lambda with its own
 * grants; crisis routes go to the Crisis function's `live` alias.
 */
export function Api({ stack }: StackContext) {
  const storage = use(Storage);
  const { lanes } = use(Queues);
  const { realtime } = use(Realtime);

  const functions = new Map<FunctionId, Function>();
  for (const id of new Set(ROUTES.map((route) => route.function))) {
    const props = id === CRISIS ? { reservedConcurrentExecutions: CRISIS_CAPACITY.reservedConcurrency } : {};
    functions.set(id, createFunction(stack, id, { ...storage, lanes, realtime }, props));
  }

  const crisis = functions.get(CRISIS);
  if (!crisis) throw new Error(`No route reaches the ${CRISIS} function`);
  const crisisLive = new lambda.Alias(stack, "CrisisLive", {
    aliasName: "live",
    version: crisis.currentVersion,
    provisionedConcurrentExecutions: CRISIS_CAPACITY.provisionedConcurrency,
  });

  const routes: Record<string, ApiRouteProps<"jwt">> = {};
  for (const route of ROUTES) {
    const authorizer = route.auth ? "jwt" : "none";
    const fn = functions.get(route.function);
    if (!fn) throw new Error(`Route ${route.route}: no function ${route.function}`);
    routes[route.route] = route.function === CRISIS
      ? { cdk: { function: crisisLive }, authorizer }
      : { function: fn, authorizer };
  }

  const api = new HttpApi(stack, "Api", {
    authorizers: {
      jwt: {
        type: "jwt",
        jwt: { issuer: jwtIssuer(), audience: jwtAudiences() },
      },
    },
    defaults: { authorizer: "jwt" },
    accessLog: { format: ACCESS_LOG_FORMAT, retention: "one_month" },
    routes,
  });

  stack.addOutputs({ ApiUrl: api.url });
  return { api, functions, crisisLive };
}
