import { describe, expect, it } from "vitest";
import { FUNCTIONS, LANE_CONSUMER, LANES, type FunctionDefinition } from "@paysync/aws/resources";

const functions = Object.values(FUNCTIONS) as FunctionDefinition[];

describe("the Audit lane in the manifest", () => {
  it("every function that appends audit entries may keep them on the Audit lane; the drain alone consumes it and sends to none", () => {
    // Act
    const writers = functions.filter((fn) => fn.tables.Audit === "readwrite" && fn.id !== LANE_CONSUMER.Audit);
    const senders = functions.filter((fn) => (fn.sendsTo as string[]).includes("Audit"));

    // Assess
    expect(senders.map((fn) => fn.id).sort()).toEqual(writers.map((fn) => fn.id).sort());
    expect(LANE_CONSUMER.Audit).toBe("AuditDrain");
    expect(FUNCTIONS.AuditDrain.sendsTo).toEqual([]);
    expect(FUNCTIONS.AuditDrain.handler).toBe(LANES.Audit.handler);
  });

  it("a drain failing for a whole outage does not dead-letter at once: receives cover hours, and the drain's timeout fits the visibility", () => {
    expect(LANES.Audit.maxReceiveCount * LANES.Audit.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(2 * 3600);
    expect(LANES.Audit.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(FUNCTIONS.AuditDrain.timeoutSeconds);
  });
});
