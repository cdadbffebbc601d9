import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
} from "@aws-sdk/client-dynamodb";
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, NotFoundException } from "@aws-sdk/client-kms";
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LANE_FIFO_MODE, LANES, MAX_LANE_MESSAGE_BYTES, SIGNING_KEY, TABLES, queueName, type LaneId, type TableDefinition, type TableId } from "@paysync/aws/resources";

/** Names follow SST's `${stage}-${app}-${id}` convention so logs read the same in both worlds. */
export const LOCAL_PREFIX = "local-paysync";

export interface ProvisionedResources {
  tables: Record<TableId, string>;
  queues: Record<LaneId, { url: string; arn: string; dlqUrl: string; dlqArn: string }>;
  keyArn: string;
  /** The entitlement signing key (SIGNING_KEY: ECC_NIST_P256, SIGN_VERIFY). */
  signingKeyArn: string;
}

const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
export const LOCAL_REGION = "us-east-1";

export function localClientConfig(endpoint: string) {
  return { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 };
}

async function ensureTable(client: DynamoDBClient, name: string, def: TableDefinition): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const attributeDefinitions: AttributeDefinition[] = Object.entries(def.fields).map(([AttributeName, type]) => ({
    AttributeName,
    AttributeType: type === "string" ? "S" : "N",
  }));
  const globalIndexes: GlobalSecondaryIndex[] = Object.entries(def.globalIndexes).map(([IndexName, index]) => ({
    IndexName,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: "HASH" },
      { AttributeName: index.sortKey, KeyType: "RANGE" },
    ],
    Projection: { ProjectionType: "ALL" },
  }));
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: attributeDefinitions,
      KeySchema: [
        { AttributeName: def.partitionKey, KeyType: "HASH" },
        { AttributeName: def.sortKey, KeyType: "RANGE" },
      ],
      ...(globalIndexes.length > 0 ? { GlobalSecondaryIndexes: globalIndexes } : {}),
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
    }),
  );
}

/** Creates the queue, or brings a queue persisted by an older run to today's attributes. */
async function createOrUpdateQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<string | undefined> {
  try {
    return (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
  } catch (error) {
    if ((error as Error).name !== "QueueNameExists") throw error;
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    const { FifoQueue: _fifo, ...settable } = attributes;
    await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: settable }));
    return QueueUrl;
  }
}

async function ensureQueue(client: SQSClient, endpoint: string, name: string, attributes: Record<string, string>) {
  const queueUrl = await createOrUpdateQueue(client, name, attributes);
  if (!queueUrl) throw new Error(`queue ${name} was not created`);
  // A queue persisted by an earlier run keeps the URL of that run's port; the SDK sends to
  // the URL's host, so point it at this run's endpoint (fauxqs looks queues up by name).
  const QueueUrl = `${endpoint}${new URL(queueUrl).pathname}`;
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? "" };
}

/** The local keys by alias, so a restart finds the keys (and ciphertexts and signatures) of the last run. */
const KEYS = {
  payload: { alias: "alias/paysync-local", create: { Description: "paysync payload key (local)" } },
  signing: {
    alias: "alias/paysync-local-signing",
    create: { Description: "paysync entitlement signing key (local)", KeySpec: SIGNING_KEY.keySpec, KeyUsage: SIGNING_KEY.keyUsage },
  },
} as const;

async function ensureKey(client: KMSClient, { alias, create }: (typeof KEYS)[keyof typeof KEYS]): Promise<string> {
  try {
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: alias }));
    if (KeyMetadata?.Arn) return KeyMetadata.Arn;
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
  const { KeyMetadata } = await client.send(new CreateKeyCommand(create));
  if (!KeyMetadata?.Arn || !KeyMetadata.KeyId) throw new Error("local KMS did not create a key");
  await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata.KeyId }));
  return KeyMetadata.Arn;
}

/** Creates (or finds, after a restart) every table, lane, DLQ and the keys of `resources.ts`. */
export async function provision(endpoints: { dynamodb: string; sqs: string; kms: string }): Promise<ProvisionedResources> {
  const dynamodb = new DynamoDBClient(localClientConfig(endpoints.dynamodb));
  const sqs = new SQSClient(localClientConfig(endpoints.sqs));
  const kms = new KMSClient(localClientConfig(endpoints.kms));
  try {
    const tables = {} as Record<TableId, string>;
    for (const def of Object.values(TABLES)) {
      const name = `${LOCAL_PREFIX}-${def.id}`;
      await ensureTable(dynamodb, name, def);
      tables[def.id] = name;
    }
    const queues = {} as ProvisionedResources["queues"];
    for (const lane of Object.values(LANES)) {
      const dlq = await ensureQueue(sqs, endpoints.sqs, queueName(LOCAL_PREFIX, lane.id, true), { FifoQueue: "true", MessageRetentionPeriod: "1209600", MaximumMessageSize: String(MAX_LANE_MESSAGE_BYTES) });
      const queue = await ensureQueue(sqs, endpoints.sqs, queueName(LOCAL_PREFIX, lane.id), {
        FifoQueue: "true",
        DeduplicationScope: LANE_FIFO_MODE.deduplicationScope,
        FifoThroughputLimit: LANE_FIFO_MODE.fifoThroughputLimit,
        VisibilityTimeout: String(lane.visibilityTimeoutSeconds),
        MaximumMessageSize: String(MAX_LANE_MESSAGE_BYTES),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: lane.maxReceiveCount }),
      });
      queues[lane.id] = { url: queue.url, arn: queue.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
    }
    const keyArn = await ensureKey(kms, KEYS.payload);
    const signingKeyArn = await ensureKey(kms, KEYS.signing);
    return { tables, queues, keyArn, signingKeyArn };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    kms.destroy();
  }
}
