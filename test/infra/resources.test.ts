/** Storage, lanes, schedules and alarms as synthesized (once for the file). */
import { Match } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEphemeralStage } from "../../stacks/stage.js";
import { cleanUpArtifacts, findFunction, logicalIdOf, synthesize, type SynthesizedApp } from "./synth.js";

let synth: SynthesizedApp;
beforeAll(async () => {
  synth = await synthesize();
});
afterAll(cleanUpArtifacts);

// prettier-ignore
const TABLES: [id: string, indexes: string[]][] = [
  ["Sync",     ["gsi1"]],
  ["Payments", ["gsi1"]],
  ["Audit",    []],
  ["Connections", []],
];

function tableResource(id: string): { logicalId: string; properties: Record<string, unknown> } {
  const tables = synth.templates.storage.findResources("AWS::DynamoDB::Table", {
    Properties: { TableName: `ci-paysync-${id}` },
  }) as Record<string, { Properties: Record<string, unknown> }>;
  const [entry] = Object.entries(tables);
  if (!entry) throw new Error(`no table ci-paysync-${id}`);
  return { logicalId: entry[0], properties: entry[1].Properties };
}

describe("storage", () => {
  it("has three rotated customer-managed KMS keys (tables and lanes; payload envelopes; secrets) and one entitlement signing key", () => {
    // Prepare
    const keys = Object.values(synth.templates.storage.findResources("AWS::KMS::Key")) as { Properties: { EnableKeyRotation?: boolean; KeyUsage?: string } }[];
    const symmetric = keys.filter((k) => k.Properties.KeyUsage !== "SIGN_VERIFY");

    // Assess
    expect(keys).toHaveLength(4);
    expect(symmetric).toHaveLength(3);
    for (const key of symmetric) expect(key.Properties.EnableKeyRotation).toBe(true);
    synth.templates.storage.hasResourceProperties("AWS::KMS::Key", { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
  });

  it("has exactly the three tables: therapeutic data, payment state and audit trail apart", () => {
    synth.templates.storage.resourceCountIs("AWS::DynamoDB::Table", TABLES.length);
  });

  it.each(TABLES)("the %s table is on-demand, point-in-time recoverable, expiring and encrypted with the key", (id) => {
    // Act
    const { properties } = tableResource(id);
    const keyRef = synth.refersTo(synth.stacks.storage.stackName, (properties.SSESpecification as { KMSMasterKeyId: unknown }).KMSMasterKeyId);

    // Assess
    expect(properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: "KMS" },
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    });
    expect(keyRef).toBe("key");
  });

  it.each(TABLES)("the %s table has its global indexes (%j)", (id, indexes) => {
    // Act
    const { properties } = tableResource(id);
    const names = ((properties.GlobalSecondaryIndexes ?? []) as { IndexName: string }[]).map((i) => i.IndexName);

    // Assess
    expect(names).toEqual(indexes);
  });

  it("publishes the payload and signing keys' ARNs and a default price map as parameters", () => {
    // Prepare
    const storage = synth.templates.storage;
    const keyId = Object.keys(storage.findResources("AWS::KMS::Key", { Properties: { Description: "paysync ci: payload envelope branch keys" } }))[0]!;
    const signingKeyId = Object.keys(storage.findResources("AWS::KMS::Key", { Properties: { KeyUsage: "SIGN_VERIFY" } }))[0]!;

    // Assess
    storage.hasResourceProperties("AWS::SSM::Parameter", {
      Name: "/sst/paysync/ci/Parameter/KMS_KEY_ARN/value",
      Value: { "Fn::GetAtt": [keyId, "Arn"] },
    });
    storage.hasResourceProperties("AWS::SSM::Parameter", {
      Name: "/sst/paysync/ci/Parameter/SIGNING_KEY_ARN/value",
      Value: { "Fn::GetAtt": [signingKeyId, "Arn"] },
    });
    storage.hasResourceProperties("AWS::SSM::Parameter", {
      Name: "/sst/paysync/ci/Parameter/PRICE_TIERS/value",
      Value: "{}",
    });
  });

  it("lets an ephemeral stage (here ci) be torn down with its data", () => {
    synth.templates.storage.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Delete",
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });

  it.each([
    ["dev", true],
    ["ci", true],
    ["local", true],
    ["dev-alice", true],
    ["pr-42", true],
    ["prod", false],
    ["production", false],
    ["staging", false],
    ["developer", false],
  ])("stage %s is ephemeral: %s (anything else keeps its data and protects its tables)", (stage, ephemeral) => {
    expect(isEphemeralStage(stage)).toBe(ephemeral);
  });
});

// prettier-ignore
const LANES: [lane: string, batchSize: number, maxReceiveCount: number, visibility: number, maxConcurrency: number, consumer: string][] = [
  //  lane          batch  receives  visibility  concurrency  consumer
  ["Realtime",     1,     5,        30,         50,          "SyncWorker"],
  ["Standard",     5,     5,        60,         20,          "SyncWorker"],
  ["Background",   10,    5,        120,        10,          "SyncWorker"],
  ["Webhooks",     10,    8,        60,         10,          "WebhookWorker"],
  ["Audit",        10,    120,      60,         5,           "AuditDrain"],
];

const lanes = LANES.map(([lane, batchSize, maxReceiveCount, visibility, maxConcurrency, consumer]) => ({
  lane, batchSize, maxReceiveCount, visibility, maxConcurrency, consumer,
}));

type Resource = { Properties: Record<string, unknown> };

function queueNamed(name: string): [string, Record<string, unknown>] {
  const found = Object.entries(
    synth.templates.queues.findResources("AWS::SQS::Queue", { Properties: { QueueName: name } }) as Record<string, Resource>,
  );
  if (found.length !== 1) throw new Error(`expected one queue ${name}, found ${found.length}`);
  return [found[0]![0], found[0]![1].Properties];
}

describe("lanes", () => {
  it("has a queue and a dead-letter queue for each lane, and nothing else", () => {
    synth.templates.queues.resourceCountIs("AWS::SQS::Queue", LANES.length * 2);
  });

  it.each(lanes)("the $lane lane is a KMS-encrypted FIFO queue with explicit deduplication ids", ({ lane, visibility }) => {
    // Act
    const [, queue] = queueNamed(`ci-paysync-${lane}.fifo`);

    // Assess
    expect(queue).toMatchObject({
      FifoQueue: true, ContentBasedDeduplication: false, VisibilityTimeout: visibility, MaximumMessageSize: 1_048_576,
      DeduplicationScope: "messageGroup", FifoThroughputLimit: "perMessageGroupId",
    });
    expect(synth.refersTo(synth.stacks.queues.stackName, queue.KmsMasterKeyId)).toBe("key");
  });

  it.each(lanes)("the $lane lane dead-letters into its own KMS-encrypted FIFO queue after $maxReceiveCount receives", ({ lane, maxReceiveCount: receives }) => {
    // Act
    const [dlqId, dlq] = queueNamed(`ci-paysync-${lane}-dlq.fifo`);
    const [, queue] = queueNamed(`ci-paysync-${lane}.fifo`);

    // Assess
    expect(dlq).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false, MessageRetentionPeriod: 14 * 24 * 3600, MaximumMessageSize: 1_048_576 });
    expect(synth.refersTo(synth.stacks.queues.stackName, dlq.KmsMasterKeyId)).toBe("key");
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] }, maxReceiveCount: receives });
  });

  it.each(lanes)(
    "the $lane lane feeds $consumer in batches of $batchSize, reporting partial failures, at most $maxConcurrency at once",
    ({ lane, batchSize, maxConcurrency, consumer }) => {
      // Prepare
      const [queueId] = queueNamed(`ci-paysync-${lane}.fifo`);
      const fn = findFunction(synth.app, consumer);

      // Act
      const mappings = Object.values(
        synth.templates.queues.findResources("AWS::Lambda::EventSourceMapping", {
          Properties: { EventSourceArn: { "Fn::GetAtt": [queueId, "Arn"] } },
        }) as Record<string, Resource>,
      );

      // Assess
      expect(mappings).toHaveLength(1);
      expect(mappings[0]!.Properties).toEqual(expect.objectContaining({
        FunctionName: { Ref: logicalIdOf(fn, fn.stack) },
        BatchSize: batchSize,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig: { MaximumConcurrency: maxConcurrency },
      }));
      // FIFO event sources cannot take a batching window (CDK and Lambda refuse one).
      expect(mappings[0]!.Properties).not.toHaveProperty("MaximumBatchingWindowInSeconds");
    },
  );

  it("runs one consumer function per worker, however many lanes it serves", () => {
    synth.templates.queues.resourceCountIs("AWS::Lambda::EventSourceMapping", LANES.length);
    expect(() => findFunction(synth.app, "SyncWorker")).not.toThrow();
    expect(() => findFunction(synth.app, "WebhookWorker")).not.toThrow();
    expect(() => findFunction(synth.app, "AuditDrain")).not.toThrow();
  });

  it.each([
    ["SyncWorker", 50 + 20 + 10],
    ["WebhookWorker", 10],
    ["AuditDrain", 5],
  ])("reserves for %s the sum of its lanes' maximum concurrency (%i), so API traffic cannot throttle it", (consumer, reserved) => {
    // Prepare
    const fn = findFunction(synth.app, consumer);

    // Act
    const props = (synth.templates.queues.toJSON().Resources as Record<string, Resource>)[logicalIdOf(fn, fn.stack)]!.Properties;

    // Assess
    expect(props.ReservedConcurrentExecutions).toBe(reserved);
  });
});

// prettier-ignore
const JOBS: [job: string, schedule: string][] = [
  ["GraceExpiry",      "rate(15 minutes)"],
  ["RetentionPurge",   "cron(30 * * * ? *)"],
  ["DlqRedrive",       "rate(30 minutes)"],
  ["UsageAggregation", "cron(10 * * * ? *)"],
  ["SloReport",        "cron(20 * * * ? *)"],
  ["AuditVerify",      "cron(40 0 * * ? *)"],
];

// prettier-ignore
const LANE_ALARMS: [lane: string, dlqThreshold: number, backlogThreshold: number][] = [
  ["Realtime",   1, 100],
  ["Standard",   1, 1_000],
  ["Background", 1, 10_000],
  ["Webhooks",   1, 500],
  // Any kept audit entry waiting is worth hearing about: the trail is behind.
  ["Audit",      1, 1],
];

/** The `route` dimension values crisis telemetry writes (its `CrisisRoute`). */
const CRISIS_ROUTES = ["resources", "activate", "resolve", "safety_plan", "contacts", "region", "op"];

function alarmOn(metric: Record<string, unknown>): Record<string, unknown>[] {
  return Object.values(
    synth.templates.alarms.findResources("AWS::CloudWatch::Alarm", { Properties: metric }) as Record<string, Resource>,
  ).map((r) => r.Properties);
}

function queueAlarms(queue: string): Record<string, unknown>[] {
  return alarmOn({ Namespace: "AWS/SQS", MetricName: "ApproximateNumberOfMessagesVisible" })
    .filter((alarm) => {
      const dimension = (alarm.Dimensions as { Name: string; Value: unknown }[])[0]!;
      return dimension.Name === "QueueName" && synth.refersTo(synth.stacks.alarms.stackName, dimension.Value) === queue;
    });
}

/** The value another stack exported under the name an alarm's `Fn::ImportValue` names. */
function imported(value: unknown): unknown {
  const name = (value as { "Fn::ImportValue"?: unknown })["Fn::ImportValue"];
  for (const template of synth.byStackName.values()) {
    const outputs = (template.toJSON() as { Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }> }).Outputs ?? {};
    const found = Object.values(outputs).find((output) => output.Export?.Name === name);
    if (found) return found.Value;
  }
  return value;
}

/** Alarms on a Lambda metric of one function (by its FunctionName dimension). */
function functionAlarms(metricName: string, fnId: string): Record<string, unknown>[] {
  const fn = findFunction(synth.app, fnId);
  return alarmOn({ Namespace: "AWS/Lambda", MetricName: metricName }).filter((alarm) => {
    const dimensions = alarm.Dimensions as { Name: string; Value: unknown }[];
    return dimensions.length === 1 && dimensions[0]!.Name === "FunctionName" &&
      JSON.stringify(imported(dimensions[0]!.Value)) === JSON.stringify({ Ref: logicalIdOf(fn, fn.stack) });
  });
}

// prettier-ignore
const WRITE_THROTTLE_ALARMS: [table: string, index: string | undefined][] = [
  ["Sync",     undefined],
  ["Sync",     "gsi1"],
  ["Payments", undefined],
  ["Payments", "gsi1"],
  ["Audit",    undefined],
  ["Connections", undefined],
];

/** Sustained: at least one throttle in 3 of 5 one-minute periods. */
const SUSTAINED = { Period: 60, EvaluationPeriods: 5, DatapointsToAlarm: 3, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", Statistic: "Sum" };

describe("scheduled jobs", () => {
  it("has a rule for every job and no other", () => {
    synth.templates.jobs.resourceCountIs("AWS::Events::Rule", JOBS.length);
  });

  it.each(JOBS)("%s runs on %s", (job, schedule) => {
    // Prepare
    const fn = findFunction(synth.app, job);

    // Act
    const rules = Object.values(
      synth.templates.jobs.findResources("AWS::Events::Rule", { Properties: { ScheduleExpression: schedule } }) as Record<string, Resource>,
    ).filter((rule) => JSON.stringify(rule.Properties.Targets).includes(`"${logicalIdOf(fn, fn.stack)}"`));

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.State).toBe("ENABLED");
  });
});

describe("alarms", () => {
  it("raises an alarm when the audit verification has not reported for more than a day", () => {
    // Act
    const alarms = alarmOn({ Namespace: "paysync", MetricName: "AuditChainsBroken", TreatMissingData: "breaching" });

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ Period: 3600, EvaluationPeriods: 25, DatapointsToAlarm: 25 });
  });

  it.each(["AuditAppendFailed", "AuditChainsBroken"])("an audit trail fault (%s) raises an alarm on its first occurrence", (metricName) => {
    // Act
    const alarms = alarmOn({ Namespace: "paysync", MetricName: metricName, Threshold: 1 });

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({
      Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", Statistic: "Sum",
      Dimensions: [{ Name: "service", Value: "paysync" }, { Name: "stage", Value: "ci" }],
    });
  });

  it.each(LANE_ALARMS)("a message dead-lettered on the %s lane raises an alarm (≥ %i)", (lane, threshold) => {
    // Act
    const alarms = queueAlarms(`dlq:${lane}`);

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ Threshold: threshold, ComparisonOperator: "GreaterThanOrEqualToThreshold" });
  });

  it.each(LANE_ALARMS)("a backlog on the %s lane raises an alarm (≥ %i visible)", (lane, _dlq, threshold) => {
    // Act
    const alarms = queueAlarms(`queue:${lane}`);

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ Threshold: threshold, ComparisonOperator: "GreaterThanOrEqualToThreshold" });
  });

  it.each([
    ["any crisis SLO breach in a minute, on any route", "CrisisSloBreach", "Sum", /^SUM\(\[FILL\(\w+, 0\)(, FILL\(\w+, 0\))*\]\)$/, ">= 1", 1],
    ["a crisis p99 latency above 150 ms on any route", "CrisisLatency", "p99", /^MAX\(\[\w+(, \w+)*\]\)$/, "> 150", 150],
  ])("%s raises an alarm", (_title, metricName, stat, expression, comparison, threshold) => {
    // Act
    const alarms = alarmOn({}).filter((a) => JSON.stringify(a.Metrics ?? []).includes(`"MetricName":"${metricName}"`));
    const metrics = (alarms[0]?.Metrics ?? []) as { Id: string; Expression?: string; ReturnData?: boolean;
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] }; Period: number; Stat: string } }[];
    const math = metrics.find((m) => m.Expression !== undefined);
    const perRoute = metrics.filter((m) => m.MetricStat !== undefined);

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({
      Threshold: threshold,
      ComparisonOperator: comparison === "> 150" ? "GreaterThanThreshold" : "GreaterThanOrEqualToThreshold",
    });
    expect(math?.Expression).toMatch(expression);
    expect(perRoute.map((m) => m.MetricStat!.Metric.Dimensions).map((d) => Object.fromEntries(d.map((x) => [x.Name, x.Value]))))
      .toEqual(CRISIS_ROUTES.map((route) => ({ service: "paysync", stage: "ci", route })));
    for (const m of perRoute) {
      expect(m.MetricStat).toMatchObject({ Metric: { Namespace: "paysync", MetricName: metricName }, Period: 60, Stat: stat });
      expect(math!.Expression).toContain(m.Id);
    }
  });

  it("a single throttled crisis call raises an alarm within the minute", () => {
    // Act
    const alarms = functionAlarms("Throttles", "Crisis");

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", Statistic: "Sum" });
  });

  it.each(["SyncWorker", "WebhookWorker", "AuditDrain"])("sustained throttling of the %s lane consumer raises an alarm", (consumer) => {
    // Act
    const alarms = functionAlarms("Throttles", consumer);

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject(SUSTAINED);
  });

  it.each(WRITE_THROTTLE_ALARMS)("sustained write throttling on the %s table (index %s) raises an alarm", (table, index) => {
    // Act
    const alarms = alarmOn({ Namespace: "AWS/DynamoDB", MetricName: "WriteThrottleEvents" }).filter((alarm) => {
      const dimensions = Object.fromEntries((alarm.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, d.Value]));
      return synth.refersTo(synth.stacks.alarms.stackName, dimensions.TableName) === `table:${table}` && dimensions.GlobalSecondaryIndexName === index;
    });

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject(SUSTAINED);
  });

  it("every alarm notifies the operators' topic when it fires and when it clears", () => {
    // Prepare
    const [topicId] = Object.keys(synth.templates.alarms.findResources("AWS::SNS::Topic"));

    // Act
    const alarms = alarmOn({});

    // Assess
    // Two per lane, three for the crisis path, three for the audit trail, one per lane consumer
    // (SyncWorker, WebhookWorker, AuditDrain), one per table and per index.
    expect(alarms).toHaveLength(LANE_ALARMS.length * 2 + 3 + 3 + 3 + WRITE_THROTTLE_ALARMS.length);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
    }
  });
});
