import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tracer } from "./observability.js";

/**
 * One SDK client per service per cold start, each captured by the tracer (a subsegment per
 * call in AWS; nothing locally). The endpoint is never set in code: in local mode the runtime
 * sets `AWS_ENDPOINT_URL_DYNAMODB` / `_SQS` / `_KMS`, which the SDK reads, so the same adapters
 * talk to AWS or to the emulators.
 */
let dynamo: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
let kms: KMSClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamo;
}

export function sqsClient(): SQSClient {
  sqs ??= tracer.captureAWSv3Client(new SQSClient({}));
  return sqs;
}

export function kmsClient(): KMSClient {
  kms ??= tracer.captureAWSv3Client(new KMSClient({}));
  return kms;
}

let signingKms: KMSClient | undefined;

/**
 * The KMS client of the entitlement signing key: it gives up fast (connect 250 ms, answer 1 s,
 * two tries), because a hanging `Sign` must not hold the entitlements answer, which goes out
 * unsigned instead (docs/PAYMENTS.md).
 */
export function signingKmsClient(): KMSClient {
  signingKms ??= tracer.captureAWSv3Client(new KMSClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 250, requestTimeout: 1_000 } }));
  return signingKms;
}

let keeperSqs: SQSClient | undefined;

/**
 * The SQS client that keeps audit entries while the Audit table is down: it gives up fast
 * (connect 250 ms, answer 1 s, two tries), because the caller — a crisis call among them —
 * waits for it, and must not wait for a second outage on top of the first.
 */
export function auditKeeperSqsClient(): SQSClient {
  keeperSqs ??= tracer.captureAWSv3Client(new SQSClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 250, requestTimeout: 1_000 } }));
  return keeperSqs;
}

let management: { endpoint: string; client: ApiGatewayManagementApiClient } | undefined;

/**
 * The WebSocket API's management client (`PostToConnection`). Its endpoint is the API's stage
 * URL in AWS and the local gateway's management path locally — the same client either way.
 */
export function managementClient(endpoint: string): ApiGatewayManagementApiClient {
  if (management?.endpoint !== endpoint) {
    management = { endpoint, client: tracer.captureAWSv3Client(new ApiGatewayManagementApiClient({ endpoint, maxAttempts: 2 })) };
  }
  return management.client;
}
