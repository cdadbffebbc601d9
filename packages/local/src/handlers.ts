import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { FUNCTIONS, type FunctionId } from "@paysync/aws/resources";

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

const PROJECT_ROOT = resolve(import.meta.dirname, "../../..");
const loaded = new Map<string, Promise<LambdaHandler>>();

/** Imports the very handler module Lambda runs (`functions/...`), once per process. */
export function loadHandler(functionId: FunctionId): Promise<LambdaHandler> {
  const spec = FUNCTIONS[functionId].handler;
  const dot = spec.lastIndexOf(".");
  const file = resolve(PROJECT_ROOT, `${spec.slice(0, dot)}.ts`);
  const exportName = spec.slice(dot + 1);
  let handler = loaded.get(spec);
  if (!handler) {
    handler = import(pathToFileURL(file).href).then((module: Record<string, unknown>) => {
      const fn = module[exportName];
      if (typeof fn !== "function") throw new Error(`${spec} does not export a handler`);
      return fn as LambdaHandler;
    });
    loaded.set(spec, handler);
  }
  return handler;
}

/** A Lambda context good enough for Powertools: names, request id and a deadline. */
export function lambdaContext(functionId: FunctionId): Context {
  const def = FUNCTIONS[functionId];
  const deadline = Date.now() + def.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-paysync-${functionId}`,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:local-paysync-${functionId}`,
    memoryLimitInMB: String(def.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/local-paysync-${functionId}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
