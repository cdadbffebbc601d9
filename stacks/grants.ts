import { Stack } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Function, type App, type Config, type FunctionProps, type Queue, type Table } from "sst/constructs";
import type { Construct } from "constructs";
import {
  FUNCTIONS,
  type LANES,
  TABLES,
  type FunctionDefinition,
  type FunctionId,
  type LaneDefinition,
  REALTIME_ENDPOINT_VARIABLE,
  type LaneId,
  type ParameterName,
  type SecretName,
  type TableId,
} from "@paysync/aws/resources";
import { grantPayloadKey, grantSecrets } from "./key-policies.js";
import { functionRoleName } from "./stage.js";

/**
 * Least-privilege wiring shared by every function (routes, lane consumers, jobs).
 *
 * SST's `bind` grants `dynamodb:*` / `sqs:*`, so tables and queues are not bound. Instead each
 * function gets the environment variables a binding would set (so handlers keep using
 * `sst/node/table` and `sst/node/queue`) and CDK's own grants for exactly what FUNCTIONS says.
 *
 * The data key encrypts the tables and queues. CDK's table and queue grants would hand the
 * function unconditional `kms:Decrypt` on it; those grants are made against key-less views of
 * the table or queue, and the key use they need is granted separately, only through the
 * service (`kms:ViaService`). The payload key is another key, used directly, and only as the
 * function's `payloadKey` says (key-policies.ts): each role has a fixed name, which the payload
 * key's policy names.
 *
 * @example
 * ```ts
 * const fn = createFunction(stack, "SyncPush", { ...use(Storage), ...use(Queues) });
 * ```
 */

/** An SQS FIFO lane with its dead-letter queue. */
export interface Lane {
  definition: (typeof LANES)[LaneId];
  queue: Queue;
  deadLetterQueue: sqs.Queue;
}

/** What functions may be granted: the outputs of the Storage and Queues stacks. */
export interface GrantableResources {
  /** Tables and lanes at rest, used only through DynamoDB and SQS. */
  dataKey: kms.Key;
  /** Payload envelopes' branch keys. */
  payloadKey: kms.Key;
  /** The stage's secrets in SSM. */
  secretsKey: kms.Key;
  /** The entitlement signing key: `kms:Sign` or `kms:GetPublicKey` only, as `signingKey` says. */
  signingKey: kms.Key;
  tables: Record<TableId, Table>;
  secrets: Record<SecretName, Config.Secret>;
  parameters: Record<ParameterName, Config.Parameter>;
  /** Absent while the Queues stack creates its own consumers (which send to no lane). */
  lanes?: Record<LaneId, Lane>;
  /** The WebSocket API that poking functions post to; absent while the Realtime stack builds its own functions. */
  realtime?: RealtimeGrant;
}

/** What a poking function needs of the WebSocket API: its management endpoint and its connections' ARN. */
export interface RealtimeGrant {
  /** `https://<api>.execute-api.<region>.amazonaws.com/<stage>`: the management API's endpoint. */
  endpoint: string;
  /** `arn:aws:execute-api:<region>:<account>:<api>/<stage>/POST/@connections/*`-style ARN of its connections. */
  connectionsArn: string;
}

const KEY_VIA_DYNAMODB_READ = ["kms:Decrypt", "kms:DescribeKey"];
const KEY_VIA_DYNAMODB_WRITE = ["kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"];
/** SQS server-side encryption: producers need a data key, consumers decrypt. */
const KEY_VIA_SQS_SEND = ["kms:GenerateDataKey", "kms:Decrypt"];
const KEY_VIA_SQS_RECEIVE = ["kms:Decrypt"];

/** The variable SST would set when binding `<type>.<id>.<prop>` (`Config.envFor`). */
export function bindingEnvName(type: "Table" | "Queue", prop: string, id: string): string {
  return `SST_${type}_${prop}_${id.replace(/-/g, "_")}`;
}

/**
 * Creates the SST Function for one FUNCTIONS entry, with its own role granted exactly the
 * tables, lanes, key use, secrets and parameters the entry lists.
 */
export function createFunction(
  scope: Construct,
  id: FunctionId,
  resources: GrantableResources,
  props: Omit<FunctionProps, "handler" | "bind"> = {},
): Function {
  const definition: FunctionDefinition = FUNCTIONS[id];
  const app = scope.node.root as App;
  const role = new iam.Role(scope, `${definition.id}Role`, {
    roleName: functionRoleName(app, definition.id),
    assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaBasicExecutionRole")],
  });
  const fn = new Function(scope, definition.id, {
    handler: definition.handler,
    timeout: definition.timeoutSeconds,
    memorySize: definition.memoryMb,
    description: `paysync ${definition.id}`,
    // Secrets and parameters: SST grants ssm:GetParameters on exactly these names.
    bind: [
      ...definition.secrets.map((name) => resources.secrets[name]),
      ...definition.parameters.map((name) => resources.parameters[name]),
    ],
    ...props,
    role,
  });

  const keyViaDynamoDb = new Set<string>();
  for (const [tableId, access] of Object.entries(definition.tables) as [TableId, "read" | "readwrite"][]) {
    const table = resources.tables[tableId];
    const view = dynamodb.Table.fromTableAttributes(fn, `${tableId}TableGrant`, {
      tableArn: table.tableArn,
      globalIndexes: Object.keys(TABLES[tableId].globalIndexes),
    });
    if (access === "read") view.grantReadData(fn);
    else view.grantReadWriteData(fn);
    KEY_VIA_DYNAMODB_READ.forEach((action) => keyViaDynamoDb.add(action));
    if (access === "readwrite") KEY_VIA_DYNAMODB_WRITE.forEach((action) => keyViaDynamoDb.add(action));
    fn.addEnvironment(bindingEnvName("Table", "tableName", tableId), table.tableName);
  }
  grantKeyViaService(fn, resources.dataKey, "dynamodb", keyViaDynamoDb);

  const keyViaSqs = new Set<string>();
  const redrives: readonly LaneId[] = definition.redrives ?? [];
  for (const laneId of new Set<LaneId>([...definition.sendsTo, ...redrives])) {
    const lane = resources.lanes?.[laneId];
    if (!lane) throw new Error(`${definition.id} needs lane ${laneId}, which is not created before it`);
    keylessQueue(fn, `${laneId}QueueGrant`, lane.queue.queueArn, lane.queue.queueUrl).grantSendMessages(fn);
    KEY_VIA_SQS_SEND.forEach((action) => keyViaSqs.add(action));
    fn.addEnvironment(bindingEnvName("Queue", "queueUrl", laneId), lane.queue.queueUrl);
    if (redrives.includes(laneId)) {
      const dlq = lane.deadLetterQueue;
      keylessQueue(fn, `${laneId}DlqGrant`, dlq.queueArn, dlq.queueUrl).grantConsumeMessages(fn);
      KEY_VIA_SQS_RECEIVE.forEach((action) => keyViaSqs.add(action));
      fn.addEnvironment(bindingEnvName("Queue", "queueUrl", `${laneId}Dlq`), dlq.queueUrl);
    }
  }
  grantKeyViaService(fn, resources.dataKey, "sqs", keyViaSqs);

  // Depth and reachability only: attributes of a lane and its DLQ, never their messages.
  for (const laneId of definition.inspects ?? []) {
    const lane = resources.lanes?.[laneId];
    if (!lane) throw new Error(`${definition.id} inspects lane ${laneId}, which is not created before it`);
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ["sqs:GetQueueAttributes"],
      resources: [lane.queue.queueArn, lane.deadLetterQueue.queueArn],
    }));
    fn.addEnvironment(bindingEnvName("Queue", "queueUrl", laneId), lane.queue.queueUrl);
    fn.addEnvironment(bindingEnvName("Queue", "queueUrl", `${laneId}Dlq`), lane.deadLetterQueue.queueUrl);
  }

  // Pokes: the management API of the WebSocket API, for its connections only.
  if (definition.pokes) {
    if (!resources.realtime) throw new Error(`${definition.id} pokes devices, but the WebSocket API is not created before it`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["execute-api:ManageConnections"], resources: [resources.realtime.connectionsArn] }));
    fn.addEnvironment(REALTIME_ENDPOINT_VARIABLE, resources.realtime.endpoint);
  }

  grantPayloadKey(role, resources.payloadKey, definition.payloadKey ?? []);
  grantSecrets(role, resources.secretsKey, app, definition.secrets);
  if (definition.signingKey === "sign") resources.signingKey.grant(fn, "kms:Sign");
  if (definition.signingKey === "public_key") resources.signingKey.grant(fn, "kms:GetPublicKey");
  return fn;
}

/**
 * Makes `fn` the consumer of a lane: an SQS event source with partial batch failures and
 * the lane's concurrency cap. FIFO event sources take no batching window (CDK rejects one),
 * so a lane's `maxBatchingWindowSeconds` is not used here.
 */
export function consumeLane(fn: Function, lane: Lane, key: kms.IKey): void {
  const { definition } = lane;
  const queue = keylessQueue(fn, `${definition.id}EventSource`, lane.queue.queueArn, lane.queue.queueUrl);
  fn.addEventSource(
    new SqsEventSource(queue, {
      batchSize: definition.batchSize,
      reportBatchItemFailures: true,
      maxConcurrency: definition.maxConcurrency,
    }),
  );
  grantKeyViaService(fn, key, "sqs", new Set(KEY_VIA_SQS_RECEIVE));
}

/** A view of a queue without its key, so CDK's queue grants do not grant the key directly. */
function keylessQueue(scope: Construct, id: string, queueArn: string, queueUrl: string): sqs.IQueue {
  return sqs.Queue.fromQueueAttributes(scope, id, { queueArn, queueUrl, fifo: true });
}

function grantKeyViaService(fn: Function, key: kms.IKey, service: "dynamodb" | "sqs", actions: Set<string>): void {
  if (actions.size === 0) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [...actions].sort(),
      resources: [key.keyArn],
      conditions: { StringEquals: { "kms:ViaService": `${service}.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}

/** Lambda's rule: a queue's visibility timeout must cover its consumer's timeout. */
export function assertVisibilityCoversTimeout(lane: LaneDefinition, consumer: FunctionDefinition): void {
  if (lane.visibilityTimeoutSeconds < consumer.timeoutSeconds) {
    throw new Error(
      `Lane ${lane.id}: visibility timeout ${lane.visibilityTimeoutSeconds}s is shorter than ` +
        `${consumer.id}'s timeout ${consumer.timeoutSeconds}s`,
    );
  }
}
