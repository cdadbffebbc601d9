import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as sns from "aws-cdk-lib/aws-sns";
import { use, type StackContext } from "sst/constructs";
import type { CrisisRoute } from "@paysync/aws/crisis/crisis-telemetry";
import { CRISIS_CAPACITY, METRICS_NAMESPACE, TABLES, type FunctionId, type TableId } from "@paysync/aws/resources";
import { Api } from "./Api.js";
import { Queues } from "./Queues.js";
import { Storage } from "./Storage.js";

/**
 * The crisis metrics carry three dimensions: `service` (Powertools adds its service name to
 * every metric), `stage` (a default dimension, so one stage's metrics never page another's)
 * and `route` (crisis-telemetry). CloudWatch alarms cannot aggregate over a
 * dimension, so the alarms combine one metric per route with metric math. `Record` over the
 * telemetry's own route type: a route added there fails type-checking here until listed.
 */
const CRISIS_METRIC_ROUTES: Record<CrisisRoute, true> = {
  resources: true, activate: true, resolve: true, safety_plan: true, contacts: true, region: true, op: true,
};
const crisisIds = Object.keys(CRISIS_METRIC_ROUTES).map((_, i) => `route${i}`);

function crisisMetrics(stage: string, metricName: string, statistic: string): Record<string, cloudwatch.IMetric> {
  return Object.fromEntries(
    Object.keys(CRISIS_METRIC_ROUTES).map((route, i) => [
      crisisIds[i]!,
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: "paysync", stage, route },
        statistic,
        period: Duration.minutes(1),
      }),
    ]),
  );
}

const CRISIS: FunctionId = "Crisis";

/** Sustained, not a blip: at least one in 3 of 5 consecutive minutes. */
const SUSTAINED = { period: Duration.minutes(1), evaluationPeriods: 5, datapointsToAlarm: 3 } as const;

/**
 * What operators are paged for: a dead-lettered message on any lane, a lane falling behind,
 * the crisis path missing its SLO or throttled, a lane consumer throttled, and a table or index
 * throttling writes — the first limit the design meets as it grows (docs/SCALE.md §7). Every
 * alarm notifies one SNS topic (subscribe a pager or an email to it; `PAYSYNC_ALARM_EMAIL`
 * subscribes one at deploy).
 */
export function Alarms({ stack }: StackContext) {
  const { lanes, consumers } = use(Queues);
  const { functions } = use(Api);
  const { tables } = use(Storage);
  const topic = new sns.Topic(stack, "AlarmTopic", { displayName: "paysync alarms" });
  if (process.env.PAYSYNC_ALARM_EMAIL) {
    new sns.Subscription(stack, "AlarmEmail", {
      topic,
      protocol: sns.SubscriptionProtocol.EMAIL,
      endpoint: process.env.PAYSYNC_ALARM_EMAIL,
    });
  }
  const notify = new actions.SnsAction(topic);
  const alarms: cloudwatch.Alarm[] = [];

  for (const { definition, queue, deadLetterQueue } of Object.values(lanes)) {
    alarms.push(
      new cloudwatch.Alarm(stack, `${definition.id}DlqDepthAlarm`, {
        alarmDescription: `Messages dead-lettered on the ${definition.id} lane: inspect, then redrive`,
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: definition.dlqAlarmThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(stack, `${definition.id}BacklogAlarm`, {
        alarmDescription: `The ${definition.id} lane is falling behind`,
        metric: queue.cdk.queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: definition.depthAlarmThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  alarms.push(
    new cloudwatch.Alarm(stack, "CrisisSloBreachAlarm", {
      alarmDescription: `A crisis request took longer than ${CRISIS_CAPACITY.latencyTargetMs} ms`,
      metric: new cloudwatch.MathExpression({
        label: "Crisis SLO breaches, all routes",
        expression: `SUM([${crisisIds.map((id) => `FILL(${id}, 0)`).join(", ")}])`,
        usingMetrics: crisisMetrics(stack.stage, "CrisisSloBreach", cloudwatch.Stats.SUM),
        period: Duration.minutes(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    new cloudwatch.Alarm(stack, "CrisisLatencyP99Alarm", {
      alarmDescription: `Crisis p99 latency above ${CRISIS_CAPACITY.p99AlarmMs} ms on some route`,
      metric: new cloudwatch.MathExpression({
        label: "Crisis p99 latency, slowest route",
        expression: `MAX([${crisisIds.join(", ")}])`,
        usingMetrics: crisisMetrics(stack.stage, "CrisisLatency", cloudwatch.Stats.p(99)),
        period: Duration.minutes(1),
      }),
      threshold: CRISIS_CAPACITY.p99AlarmMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  );

  // A throttled crisis call is a person in crisis who got an error: page on the first one.
  const crisis = functions.get(CRISIS);
  if (!crisis) throw new Error(`No ${CRISIS} function to watch`);
  alarms.push(new cloudwatch.Alarm(stack, "CrisisThrottleAlarm", {
    alarmDescription: `The crisis function was throttled: its ${CRISIS_CAPACITY.reservedConcurrency} reserved executions were all busy`,
    metric: crisis.metricThrottles({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  }));

  // Consumers reserve the sum of their lanes' caps, so a throttle means a cap outgrew the
  // reservation; throttled receives walk messages towards the dead-letter queues.
  for (const [id, consumer] of consumers) {
    alarms.push(new cloudwatch.Alarm(stack, `${id}ThrottleAlarm`, {
      alarmDescription: `The ${id} lane consumer is being throttled: messages are redelivered towards their DLQ`,
      metric: consumer.metricThrottles({ period: SUSTAINED.period, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: SUSTAINED.evaluationPeriods,
      datapointsToAlarm: SUSTAINED.datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));
  }

  // On-demand tables throttle at a hot partition (1,000 write units/s), an index partition or
  // the table's throughput limits; an index that throttles also throttles its table's writes.
  for (const [tableId, table] of Object.entries(tables) as [TableId, (typeof tables)[TableId]][]) {
    const targets: [string, Record<string, string>][] = [
      [tableId, { TableName: table.tableName }],
      ...Object.keys(TABLES[tableId].globalIndexes).map((index): [string, Record<string, string>] =>
        [`${tableId}${index[0]!.toUpperCase()}${index.slice(1)}`, { TableName: table.tableName, GlobalSecondaryIndexName: index }]),
    ];
    for (const [name, dimensionsMap] of targets) {
      alarms.push(new cloudwatch.Alarm(stack, `${name}WriteThrottleAlarm`, {
        alarmDescription: `${name}: DynamoDB is throttling writes (hot partition or throughput limit; docs/SCALE.md)`,
        metric: new cloudwatch.Metric({
          namespace: "AWS/DynamoDB", metricName: "WriteThrottleEvents", dimensionsMap,
          statistic: cloudwatch.Stats.SUM, period: SUSTAINED.period,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: SUSTAINED.evaluationPeriods,
        datapointsToAlarm: SUSTAINED.datapointsToAlarm,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }));
    }
  }

  // The audit trail: an entry that could not be written, or a chain that no longer verifies.
  for (const [id, metricName, description] of [
    ["AuditAppendFailedAlarm", "AuditAppendFailed", "An audit entry could not be written (the entry is in the error log)"],
    ["AuditChainBrokenAlarm", "AuditChainsBroken", "The audit hash chain failed verification"],
  ] as const) {
    alarms.push(new cloudwatch.Alarm(stack, id, {
      alarmDescription: description,
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: "paysync", stage: stack.stage },
        statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));
  }

  // The verification job reports every day; silence for longer means it stopped running.
  alarms.push(new cloudwatch.Alarm(stack, "AuditVerifySilentAlarm", {
    alarmDescription: "The audit-chain verification has not reported for more than 25 hours",
    metric: new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE, metricName: "AuditChainsBroken", dimensionsMap: { service: "paysync", stage: stack.stage },
      statistic: cloudwatch.Stats.SAMPLE_COUNT, period: Duration.hours(1),
    }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: 25,
    datapointsToAlarm: 25,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  }));

  for (const alarm of alarms) {
    alarm.addAlarmAction(notify);
    alarm.addOkAction(notify);
  }
  return { topic, alarms };
}
