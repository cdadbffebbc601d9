import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as sns from "aws-cdk-lib/aws-sns";
import { use, type StackContext } from "sst/constructs";
import { CRISIS_CAPACITY, METRICS_NAMESPACE } from "../packages/aws/src/resources.js";
import { Queues } from "./Queues.js";

/**
 * Powertools Metrics adds its service name as the `service` dimension to every metric, so
 * the crisis alarms watch the metrics with exactly that dimension.
 */
const SERVICE_DIMENSION = { service: "paysync" };

/**
 * What operators are paged for: a dead-lettered message on any lane, a lane falling behind,
 * and the crisis path missing its SLO. Every alarm notifies one SNS topic (subscribe a pager
 * or an email to it; `PAYSYNC_ALARM_EMAIL` subscribes one at deploy).
 */
export function Alarms({ stack }: StackContext) {
  const { lanes } = use(Queues);
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
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: "CrisisSloBreach",
        dimensionsMap: SERVICE_DIMENSION,
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    new cloudwatch.Alarm(stack, "CrisisLatencyP99Alarm", {
      alarmDescription: `Crisis p99 latency above ${CRISIS_CAPACITY.p99AlarmMs} ms`,
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: "CrisisLatency",
        dimensionsMap: SERVICE_DIMENSION,
        statistic: cloudwatch.Stats.p(99),
        period: Duration.minutes(1),
      }),
      threshold: CRISIS_CAPACITY.p99AlarmMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  );

  for (const alarm of alarms) {
    alarm.addAlarmAction(notify);
    alarm.addOkAction(notify);
  }
  return { topic, alarms };
}
