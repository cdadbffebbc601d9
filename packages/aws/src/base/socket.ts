/**
 * The WebSocket API's handlers (`$connect`, `$disconnect`, the authorizer), wrapped like every
 * other entry point: a trace segment (no event data), the logger's Lambda context (never the
 * event: its query string carries the token), one metrics flush with a cold-start metric.
 *
 * @example
 * export const handler = socketHandler(async (event) => ({ statusCode: 200 }));
 */
import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import type { Context } from "aws-lambda";
import { logger, metrics, tracer } from "./observability.js";

/** What API Gateway hands a WebSocket route (the fields paysync reads). */
export interface SocketEvent {
  queryStringParameters?: Record<string, string | undefined> | null;
  requestContext: {
    connectionId: string;
    routeKey: string;
    /** The authorizer's context (`$connect` and every later route of the connection). */
    authorizer?: Record<string, unknown> | null;
  };
}

/** A WebSocket route's answer: 2xx accepts a `$connect`, anything else refuses it. */
export interface SocketResult {
  statusCode: number;
  body?: string;
}

/** A REQUEST authorizer's event for a WebSocket API's `$connect`. */
export interface SocketAuthorizerEvent {
  methodArn: string;
  queryStringParameters?: Record<string, string | undefined> | null;
}

export interface SocketAuthorizerResult {
  principalId: string;
  policyDocument: { Version: "2012-10-17"; Statement: { Action: string; Effect: "Allow" | "Deny"; Resource: string }[] };
  context?: Record<string, string>;
}

export function socketHandler<E, R>(handle: (event: E, context: Context) => Promise<R>) {
  return middy<E, R>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(handle);
}
