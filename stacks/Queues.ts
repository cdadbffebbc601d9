import { Duration } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Queue, use, type Function, type StackContext } from "sst/constructs";
import {
  FUNCTIONS,
  LANE_CONSUMER,
  LANE_FIFO_MODE,
  LANES,
  laneConsumerReservedConcurrency,
  MAX_LANE_MESSAGE_BYTES,
  queueName,
  type FunctionId,
  type LaneId,
} from "@paysync/aws/resources";
import { assertVisibilityCoversTimeout, consumeLane, createFunction, type Lane } from "./grants.js";
import { Realtime } from "./Realtime.js";
import { Storage } from "./Storage.js";

/**
 * The SQS FIFO lanes of LANES, each KMS-encrypted with a FIFO dead-letter queue, and their
 * consumer functions (one function per LANE_CONSUMER id, even when it serves several lanes),
 * each with concurrency reserved for the sum of its lanes' caps, so API traffic cannot
 * throttle them.
 */
export function Queues({ stack, app }: StackContext) {
  const storage = use(Storage);
  const { realtime } = use(Realtime);
  const prefix = `${app.stage}-${app.name}`;

  const lanes = Object.fromEntries(
    Object.values(LANES).map((definition): [LaneId, Lane] => {
      const deadLetterQueue = new sqs.Queue(stack, `${definition.id}Dlq`, {
        queueName: queueName(prefix, definition.id, true),
        fifo: true,
        contentBasedDeduplication: false,
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: storage.dataKey,
        // The longest SQS keeps anything: time for an operator or the redrive job.
        retentionPeriod: Duration.days(14),
        maxMessageSizeBytes: MAX_LANE_MESSAGE_BYTES,
      });
      const queue = new Queue(stack, definition.id, {
        cdk: {
          queue: {
            queueName: queueName(prefix, definition.id),
            fifo: true,
            // Producers send explicit deduplication ids, scoped by user; high-throughput mode.
            contentBasedDeduplication: false,
            deduplicationScope: LANE_FIFO_MODE.deduplicationScope as sqs.DeduplicationScope,
            fifoThroughputLimit: LANE_FIFO_MODE.fifoThroughputLimit as sqs.FifoThroughputLimit,
            encryption: sqs.QueueEncryption.KMS,
            encryptionMasterKey: storage.dataKey,
            visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
            maxMessageSizeBytes: MAX_LANE_MESSAGE_BYTES,
            deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
          },
        },
      });
      return [definition.id, { definition, queue, deadLetterQueue }];
    }),
  ) as Record<LaneId, Lane>;

  const consumers = new Map<FunctionId, Function>();
  for (const lane of Object.values(lanes)) {
    const consumerId = LANE_CONSUMER[lane.definition.id];
    assertVisibilityCoversTimeout(lane.definition, FUNCTIONS[consumerId]);
    let consumer = consumers.get(consumerId);
    if (!consumer) {
      consumer = createFunction(stack, consumerId, { ...storage, lanes, realtime }, {
        reservedConcurrentExecutions: laneConsumerReservedConcurrency(consumerId),
      });
      consumers.set(consumerId, consumer);
    }
    consumeLane(consumer, lane, storage.dataKey);
  }

  return { lanes, consumers };
}
