import { DescribeKeyCommand } from "@aws-sdk/client-kms";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient, kmsClient, sqsClient } from "@paysync/aws/base/clients";
import { config } from "@paysync/aws/base/config";
import { SUPPORTED_PROTOCOL } from "@paysync/core/api/protocol";
import { httpHandler, json } from "@paysync/aws/base/http";
import { LANES, TABLES, type LaneId, type TableId } from "@paysync/aws/resources";
import { HEALTH_PROBE_KEY } from "@paysync/aws/store/keys";

interface Check {
  ok: boolean;
  latencyMs: number;
}

const CHECK_TIMEOUT_MS = 2_000;

async function timed(probe: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), CHECK_TIMEOUT_MS).unref());
  try {
    await Promise.race([probe(), timeout]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch {
    return { ok: false, latencyMs: Math.round(performance.now() - started) };
  }
}

/** `GET /health`: liveness plus the reachability of every table, lane and the key. */
export const handler = httpHandler(async () => {
  const tableIds = Object.keys(TABLES) as TableId[];
  const laneIds = Object.keys(LANES) as LaneId[];
  const [tables, lanes, key] = await Promise.all([
    Promise.all(tableIds.map((id) => timed(() => documentClient().send(new GetCommand({ TableName: config.table(id), Key: HEALTH_PROBE_KEY }))))),
    Promise.all(laneIds.map((id) => timed(() => sqsClient().send(new GetQueueAttributesCommand({ QueueUrl: config.queue(id), AttributeNames: ["QueueArn"] }))))),
    timed(() => kmsClient().send(new DescribeKeyCommand({ KeyId: config.parameter("KMS_KEY_ARN") }))),
  ]);
  const dependencies = {
    dynamodb: Object.fromEntries(tableIds.map((id, i) => [id, tables[i]])),
    sqs: Object.fromEntries(laneIds.map((id, i) => [id, lanes[i]])),
    kms: key,
  };
  const healthy = [...tables, ...lanes, key].every((check) => check?.ok);
  return json(healthy ? 200 : 503, { status: healthy ? "ok" : "degraded", protocol: SUPPORTED_PROTOCOL, dependencies });
});
