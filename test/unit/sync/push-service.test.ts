import { describe, expect, it } from "vitest";
import type { SyncOp } from "@paysync/core/api";
import type { Tier } from "@paysync/core/tiers";
import { PushService } from "@paysync/aws/sync/push-service";
import {
  device, FixedTier, MemoryDevices, MemoryLimits, opRecords, RecordingCrisis, RecordingLanes, TransparentCipher,
} from "../../helpers/in-memory-ports.js";

const USER = `u_${"d".repeat(32)}`;
const NOW = new Date("2026-06-01T12:00:00.000Z");
let n = 0;
const op = (entityType: SyncOp["entityType"], payload: unknown = { n: ++n }): SyncOp =>
  ({ opId: `op-${++n}`, entityType, entityId: `${entityType}-${n}`, action: "upsert", baseVersion: 0, payload, clientTime: NOW.toISOString() }) as SyncOp;
const PLAN = { warningSigns: ["w"], copingStrategies: [], reasonsForLiving: [], distractions: [], peopleToAskForHelp: [], professionalsToContact: [], makingEnvironmentSafe: [] };

function setup(tier: Tier) {
  const ports = {
    devices: new MemoryDevices(USER, [device("phone"), device("tablet")]), entities: opRecords(), limits: new MemoryLimits(),
    lanes: new RecordingLanes(), tiers: new FixedTier(tier), cipher: new TransparentCipher(), crisis: new RecordingCrisis(),
  };
  return { ports, service: new PushService(ports), push: (ops: SyncOp[]) => new PushService(ports).push({ userKey: USER, deviceId: "phone", ops, receivedAt: NOW }) };
}

describe("a push, decided on in-memory ports", () => {
  it("hands crisis ops to the crisis path at once and queues the rest on their lanes, encrypted", async () => {
    // Prepare
    const { ports, push } = setup("basic");
    const ops = [op("check_in"), op("safety_plan", PLAN), op("mood_entry")];

    // Act
    const { results } = await push(ops);

    // Assess
    expect(ports.crisis.applied.map((c) => c.opId)).toEqual([ops[1]!.opId]);
    expect(results.map((r) => [r.status, r.lane])).toEqual([["queued", "standard"], ["applied", "crisis"], ["queued", "standard"]]);
    expect(ports.lanes.sent.map((m) => m.message.opId)).toEqual([ops[0]!.opId, ops[2]!.opId]);
    expect(ports.lanes.sent.every((m) => m.message.payloadCipher !== null && !m.message.payloadCipher.includes("mood"))).toBe(true);
  });

  it("never holds a priority-8 op to the offline queue limit, and counts the others against it", async () => {
    // Prepare: a free user's queue holds 10 ops
    const { ports, push } = setup("free");
    const checkIns = Array.from({ length: 11 }, () => op("check_in"));
    const session = op("therapeutic_session");

    // Act
    const { results } = await push([...checkIns, session]);

    // Assess
    expect(results.filter((r) => r.status === "rejected").map((r) => r.opId)).toEqual([checkIns[10]!.opId]);
    expect(results.at(-1)).toMatchObject({ opId: session.opId, status: "queued", lane: "realtime", priority: 8 });
    expect(ports.limits.pending.has(session.opId)).toBe(false);
  });

  it("gives back the slots it took when the lanes are down, and answers 503", async () => {
    // Prepare
    const { ports, push } = setup("basic");
    ports.lanes.down = true;
    const ops = [op("check_in"), op("mood_entry")];

    // Act
    const attempt = push(ops);

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: "service_unavailable" });
    expect(ports.limits.released.sort()).toEqual(ops.map((o) => o.opId).sort());
    expect(ports.limits.pending.size).toBe(0);
  });
});
