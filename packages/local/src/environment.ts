import { REALTIME_ENDPOINT_VARIABLE } from "@paysync/aws/resources";
import type { ProvisionedResources } from "./provision.js";
import { MANAGEMENT_PATH } from "./realtime.js";
import { LOCAL_REGION } from "./provision.js";
import type { LocalSettings } from "./settings.js";

export interface Endpoints {
  dynamodb: string;
  sqs: string;
  kms: string;
}

/**
 * The environment a Lambda function would see, pointed at the emulators: SST's binding
 * variables (so `sst/node/*` reads them exactly as in AWS) and the SDK's per-service
 * endpoint variables (so the adapters' clients need no local branch).
 */
export function handlerEnvironment(settings: LocalSettings, endpoints: Endpoints, resources: ProvisionedResources): Record<string, string> {
  const env: Record<string, string> = {
    SST_APP: "paysync",
    SST_STAGE: "local",
    SST_REGION: LOCAL_REGION,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_KMS: endpoints.kms,
    POWERTOOLS_SERVICE_NAME: "paysync",
    POWERTOOLS_LOGGER_LOG_EVENT: "false",
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? "true",
    // The realtime authorizer verifies dev tokens as the gateway does (AWS: the issuer's JWKS).
    LOCAL_JWT_SECRET: settings.secrets.jwtSecret,
    SST_Secret_value_STRIPE_WEBHOOK_SECRET: settings.secrets.stripeWebhookSecret,
    SST_Secret_value_PSEUDONYM_SECRET: settings.secrets.pseudonymSecret,
    // The operators' admin routes take the admin token `/ops` takes.
    SST_Secret_value_OPS_ADMIN_TOKEN: settings.secrets.adminToken,
    SST_Parameter_value_KMS_KEY_ARN: resources.keyArn,
    SST_Parameter_value_SIGNING_KEY_ARN: resources.signingKeyArn,
    SST_Parameter_value_PRICE_TIERS: JSON.stringify(settings.priceTiers),
  };
  for (const [id, name] of Object.entries(resources.tables)) env[`SST_Table_tableName_${id}`] = name;
  for (const [id, queue] of Object.entries(resources.queues)) {
    env[`SST_Queue_queueUrl_${id}`] = queue.url;
    env[`SST_Queue_queueUrl_${id}Dlq`] = queue.dlqUrl;
  }
  return env;
}

/** Where the poking functions post pokes: the local gateway's management API (same SDK client as in AWS). */
export function realtimeEnvironment(baseUrl: string): Record<string, string> {
  return { [REALTIME_ENDPOINT_VARIABLE]: `${baseUrl}${MANAGEMENT_PATH}` };
}
