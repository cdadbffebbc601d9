import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { redactingReplacer } from "./redaction.js";
import { METRICS_NAMESPACE } from "./resources.js";

/**
 * Logger and metrics, set up once and shared by every handler (the Powertools examples
 * pattern). Events are never logged: they carry tokens, payloads and Stripe objects.
 * Only pseudonymous user keys may appear in log fields or metric dimensions; should anything
 * else slip in, `redactingReplacer` takes user data, secrets and Stripe objects out of every
 * log line (docs/SECURITY.md).
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
