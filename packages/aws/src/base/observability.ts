import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { METRICS_NAMESPACE } from "../resources.js";
import { redactingReplacer } from "./redaction.js";

/**
 * Logger, metrics and tracer, set up once and shared by every handler (the Powertools examples
 * pattern); the middy chains of `http.ts`, `worker.ts` and `job.ts` attach them to each
 * invocation — context, cold-start metric, one flush of the metrics, one trace segment — so no
 * handler does it by hand. Events are never logged: they carry tokens, payloads and Stripe
 * objects. Only pseudonymous user keys may appear in log fields or metric dimensions; should
 * anything else slip in, `redactingReplacer` takes user data, secrets and Stripe objects out of
 * every log line (docs/SECURITY.md). Traces carry no request or response data
 * (`captureResponse: false`, SDK clients captured without their payloads).
 */
export const logger = new Logger({
  serviceName: "paysync",
  logLevel: process.env.LOG_LEVEL === "DEBUG" ? "DEBUG" : "INFO",
  jsonReplacerFn: redactingReplacer,
});

export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: "paysync",
  // Stages share an account's namespace; the stage keeps dev traffic from paging for prod.
  defaultDimensions: { stage: process.env.SST_STAGE ?? "local" },
});

/** Off outside Lambda (and locally), where there is no X-Ray daemon to send segments to. */
export const tracer = new Tracer({ serviceName: "paysync", captureHTTPsRequests: false });

/** An error's name for a log field: never its message, which may quote the data that failed. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
