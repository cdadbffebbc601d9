import { beforeAll, describe, expect, it } from "vitest";
import type { SyncOp } from "@paysync/core/api";
import type { LanePublisher } from "@paysync/aws/store/lanes";
import type { PushService } from "@paysync/aws/sync/push-service";
import { eventually, useRuntime } from "../helpers/runtime.js";
import { makeOp, syncClient } from "../helpers/sync.js";

const rt = useRuntime();
const sync = syncClient(rt);

let pushWithLanes: (lanes: LanePublisher) => PushService;

beforeAll(async () => {
  // The push service runs in this process, against the same emulators, so a fault can be injected.
  Object.assign(process.env, rt.handlerEnv());
  const { PushService: PushServiceClass } = await import("@paysync/aws/sync/push-service");
  const { wiring } = await import("@paysync/aws/wiring");
  pushWithLanes = (lanes) => new PushServiceClass({ ...wiring.pushPorts(), lanes });
});

/** A publisher that fails as a process dying (or a dependency failing) between the slot reservation and the lane send does. */
const deadPublisher = { publish: () => Promise.reject(new Error("injected: died before the lane send")) } as unknown as LanePublisher;

describe("a push that fails after reserving its offline-queue slots (found by the soak)", () => {
  it("is sent on the device's retry, answered duplicate, and applied exactly once", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("push-fault", ["phone", "tablet"], "basic");
    const op = makeOp({ entityType: "check_in" });
    const failing = pushWithLanes(deadPublisher);
    await expect(failing.push({ userKey, deviceId: devices.phone!, ops: [op as SyncOp], receivedAt: new Date() })).rejects.toThrow(/injected/);
    expect(await sync.pendingCount(userKey)).toBe(1);

    // Act: the device retries the same op through the service
    const retry = await sync.push(token, devices.phone!, [op]);

    // Assess
    expect(retry.status, retry.text).toBe(200);
    expect(retry.json.results).toEqual([expect.objectContaining({ opId: op.opId, status: "duplicate" })]);
    const records = await sync.applied(userKey, [op.opId]);
    expect(records.get(op.opId)?.outcome).toBe("applied");
    expect((await sync.feed(userKey, devices.tablet!)).filter((c) => c.entityId === op.entityId)).toHaveLength(1);
    await eventually(async () => ((await sync.pendingCount(userKey)) === 0 ? true : undefined));
  });

  it("a repeat of an op still waiting in its lane is sent again but applied once", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("push-repeat", ["phone", "tablet"], "basic");
    const op = makeOp({ entityType: "history" }); // background lane: it waits for its batching window

    // Act
    const first = await sync.push(token, devices.phone!, [op]);
    const again = await sync.push(token, devices.phone!, [op]);

    // Assess
    expect(first.json.results[0].status).toBe("queued");
    expect(again.json.results[0].status).toBe("duplicate");
    await sync.applied(userKey, [op.opId]);
    await eventually(async () => ((await sync.pendingCount(userKey)) === 0 ? true : undefined));
    expect((await sync.entity(userKey, "history", op.entityId))?.version).toBe(1);
    expect((await sync.feed(userKey, devices.tablet!)).filter((c) => c.entityId === op.entityId)).toHaveLength(1);
  });
});
