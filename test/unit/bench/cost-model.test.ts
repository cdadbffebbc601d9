import { describe, expect, it } from "vitest";
import {
  APPSYNC_PRICES, AWS_PRICES, FIRESTORE_PRICES, NO_COUNTS, appSyncCostPerMillion, awsCostPerMillion, firestoreCostPerMillion,
  firestoreNativeCostPerMillion, usageOfRequest, usagePerOp, type MeasuredCounts, type SyncWorkload,
} from "../../bench/cost-model.js";

/** Round numbers, so every figure below can be checked with pencil and paper. */
const WORKLOAD: SyncWorkload = {
  opsPerPush: 2, batchFill: 4, targetDevices: 1, changesPerDeliveringPull: 1, pokesPerOp: 1, changeBytes: 6_000,
  memoryMb: { push: 1024, worker: 1024, pull: 1024 },
};
const COUNTS: MeasuredCounts = {
  push: { writeUnits: 10, readUnits: 4, itemWrites: 4, itemReads: 2, itemDeletes: 0, sqsRequests: 1, kmsRequests: 1, lambdaMs: 100, logBytes: 1_000 },
  applyPerOp: { writeUnits: 20, readUnits: 8, itemWrites: 5, itemReads: 4, itemDeletes: 1, sqsRequests: 0, kmsRequests: 0, lambdaMs: 50, logBytes: 500 },
  applyPerBatch: { ...NO_COUNTS, sqsRequests: 2, lambdaMs: 20, logBytes: 2_000 },
  deliveringPull: { writeUnits: 2, readUnits: 4, itemWrites: 1, itemReads: 3, itemDeletes: 0, sqsRequests: 0, kmsRequests: 2, lambdaMs: 40, logBytes: 1_000 },
  purgePerTarget: { ...NO_COUNTS, writeUnits: 2, itemDeletes: 1 },
};

describe("units per applied op", () => {
  it("adds half a push, the apply, a quarter of a worker batch, one delivering pull and one purge", () => {
    // Act
    const usage = usagePerOp(WORKLOAD, COUNTS);

    // Assess
    expect(usage.pushes).toBe(0.5);
    expect(usage.deliveringPulls).toBe(1);
    expect(usage.httpRequests).toBe(1.5); // 0.5 push + 1 pull
    expect(usage.lambdaRequests).toBe(1.75); // 0.5 push + 0.25 batch + 1 pull
    expect(usage.lambdaGbSeconds).toBeCloseTo(0.145, 12); // 1 GB × (0.5×0.1 + 0.05 + 0.25×0.02 + 0.04) s
    expect(usage.sqsRequests).toBe(1); // 0.5×1 + 0.25×2
    expect(usage.writeUnits).toBe(29); // 0.5×10 + 20 + 2 + 1×2
    expect(usage.readUnits).toBe(14); // 0.5×4 + 8 + 4
    expect(usage.kmsRequests).toBe(2.5); // 0.5×1 + 2
    expect(usage.logBytes).toBe(2_500); // 500 + 500 + 500 + 1,000
    expect([usage.itemWrites, usage.itemReads, usage.itemDeletes]).toEqual([8, 8, 2]);
    expect(usage.webSocketMessages).toBe(1);
  });

  it("charges each op a smaller share of a push that carries more ops", () => {
    // Act
    const alone = usagePerOp({ ...WORKLOAD, opsPerPush: 1 }, COUNTS);
    const batched = usagePerOp({ ...WORKLOAD, opsPerPush: 10 }, COUNTS);

    // Assess
    expect(alone.writeUnits - batched.writeUnits).toBeCloseTo(10 - 1, 12);
    expect(alone.httpRequests - batched.httpRequests).toBeCloseTo(1 - 0.1, 12);
  });

  it("prices a single request of a phase as one HTTP request and one invocation", () => {
    // Act
    const usage = usageOfRequest(COUNTS.deliveringPull, 512);

    // Assess
    expect(usage).toMatchObject({ httpRequests: 1, lambdaRequests: 1, writeUnits: 2, readUnits: 4, lambdaGbSeconds: 0.02 });
  });
});

describe("cost per million applied ops", () => {
  it("on AWS: each line is units × list price, and the total is their sum", () => {
    // Act
    const cost = awsCostPerMillion(usagePerOp(WORKLOAD, COUNTS));

    // Assess
    expect(cost.lines["API Gateway HTTP requests"]).toBeCloseTo(1.5, 9); // 1.5 M × $1/M
    expect(cost.lines["API Gateway WebSocket messages"]).toBeCloseTo(1, 9); // 1 M × $1/M
    expect(cost.lines["Lambda requests"]).toBeCloseTo(0.35, 9); // 1.75 M × $0.20/M
    expect(cost.lines["Lambda duration (arm64)"]).toBeCloseTo(1.933343, 6); // 145,000 GB-s × $0.0000133334
    expect(cost.lines["SQS FIFO requests"]).toBeCloseTo(0.5, 9); // 1 M × $0.50/M
    expect(cost.lines["DynamoDB write units"]).toBeCloseTo(18.125, 9); // 29 M × $0.625/M
    expect(cost.lines["DynamoDB read units"]).toBeCloseTo(1.75, 9); // 14 M × $0.125/M
    expect(cost.lines["KMS requests"]).toBeCloseTo(7.5, 9); // 2.5 M × $0.03/10,000
    expect(cost.lines["CloudWatch Logs ingestion"]).toBeCloseTo(1.25, 9); // 2.5 GB × $0.50/GB
    expect(cost.total).toBeCloseTo(33.908343, 6);
  });

  it("on Firestore: the same item operations as document writes, reads and deletes", () => {
    // Act
    const cost = firestoreCostPerMillion(usagePerOp(WORKLOAD, COUNTS));

    // Assess
    expect(cost.lines).toEqual({
      "document writes": expect.closeTo(7.2, 9), // 8 M × $0.09/100,000
      "document reads": expect.closeTo(2.4, 9), // 8 M × $0.03/100,000
      "document deletes": expect.closeTo(0.2, 9), // 2 M × $0.01/100,000
    });
    expect(cost.total).toBeCloseTo(9.8, 9);
  });

  it("on Firestore written natively: the op's writes, its transaction reads and one listener read per target device", () => {
    // Act
    const cost = firestoreNativeCostPerMillion({ writes: 3, transactionReads: 2 }, WORKLOAD);

    // Assess
    expect(cost.lines["document writes"]).toBeCloseTo(2.7, 9); // 3 M × $0.09/100,000
    expect(cost.lines["document reads"]).toBeCloseTo(0.9, 9); // (2 + 1) M × $0.03/100,000
  });

  it("on AppSync: a mutation per push, updates in 5 KB increments, catch-up queries, the same DynamoDB and KMS use", () => {
    // Act
    const cost = appSyncCostPerMillion(usagePerOp(WORKLOAD, COUNTS), WORKLOAD, { connectedShare: 0.5, changesPerCatchUpQuery: 1 });

    // Assess
    expect(cost.lines["AppSync mutations and queries"]).toBeCloseTo(4, 9); // (0.5 mutation + 0.5 query) M × $4/M
    expect(cost.lines["AppSync real-time updates"]).toBeCloseTo(2, 9); // 1 device × 0.5 connected × 2 increments × $2/M
    expect(cost.lines["DynamoDB write units"]).toBeCloseTo(18.125, 9);
    expect(cost.total).toBeCloseTo(4 + 2 + 18.125 + 1.75 + 7.5, 9);
  });
});

describe("the price tables", () => {
  it.each(Object.entries({ ...AWS_PRICES, ...FIRESTORE_PRICES, ...APPSYNC_PRICES }))("%s says where and when it was read", (_name, price) => {
    // Assess
    expect(price.source).toMatch(/^https:\/\//);
    expect(price.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(price.usd).toBeGreaterThan(0);
    expect(price.per).toBeGreaterThan(0);
  });
});
