import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { useRuntime } from "../helpers/runtime.js";
import { jobStateKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
let runJob: typeof import("@paysync/aws/jobs/job-runner").runJob;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  ({ runJob } = await import("@paysync/aws/jobs/job-runner"));
});

/** A job over items 0..total-1 in pages of `size`, recording every item it touched. */
function countingJob(name: string, total: number, size: number, touched: number[], failAt?: number) {
  return {
    name,
    runKey: "2026-11-22",
    page: async (from: number | undefined) => {
      const start = from ?? 0;
      if (failAt !== undefined && start === failAt) throw new Error("dependency failed mid-run");
      const end = Math.min(total, start + size);
      for (let i = start; i < end; i++) touched.push(i);
      return { processed: end - start, next: end < total ? end : null };
    },
  };
}

describe("maintenance job runner", () => {
  it("runs every page once and a second run of the same period does nothing", async () => {
    // Prepare
    const touched: number[] = [];
    const job = countingJob(`twice-${Date.now()}`, 23, 5, touched);

    // Act
    const first = await runJob(job);
    const second = await runJob(job);

    // Assess
    expect(first).toEqual({ status: "completed", processed: 23, pages: 5 });
    expect(second).toEqual({ status: "already_completed" });
    expect(touched).toEqual([...Array(23).keys()]);
  });

  it("lets only one of two concurrent runs work", async () => {
    // Prepare
    const touched: number[] = [];
    const job = countingJob(`concurrent-${Date.now()}`, 40, 4, touched);

    // Act
    const outcomes = await Promise.all([runJob(job), runJob(job)]);

    // Assess
    expect(outcomes.map((o) => o.status).sort()).toEqual(["completed", "lease_held"]);
    expect(touched).toEqual([...Array(40).keys()]);
  });

  it("resumes a run that failed mid-way from its last checkpoint and finishes", async () => {
    // Prepare
    const touched: number[] = [];
    const name = `resume-${Date.now()}`;

    // Act
    await expect(runJob(countingJob(name, 20, 5, touched, 10))).rejects.toThrow("dependency failed mid-run");
    const resumed = await runJob(countingJob(name, 20, 5, touched));

    // Assess
    expect(resumed).toEqual({ status: "completed", processed: 10, pages: 2 });
    expect(touched).toEqual([...Array(20).keys()]);
  });

  it("takes over the lease of a run that crashed once the lease has expired", async () => {
    // Prepare: a crashed run left its lease and a checkpoint at item 6
    const touched: number[] = [];
    const name = `crashed-${Date.now()}`;
    await rt.dynamo.send(new PutCommand({
      TableName: rt.resources.tables.Audit,
      Item: { ...jobStateKey(name), holder: "dead-run", leaseUntil: Date.now() + 60_000, runKey: "2026-11-22", checkpoint: 6 },
    }));

    // Act
    const whileHeld = await runJob(countingJob(name, 9, 3, touched));
    const afterExpiry = await runJob({ ...countingJob(name, 9, 3, touched), now: new Date(Date.now() + 120_000) });

    // Assess
    expect(whileHeld).toEqual({ status: "lease_held" });
    expect(afterExpiry).toEqual({ status: "completed", processed: 3, pages: 1 });
    expect(touched).toEqual([6, 7, 8]);
  });
});
