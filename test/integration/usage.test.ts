import { describe, expect, it } from "vitest";
import { policyFor } from "@paysync/core/tiers";
import { useRuntime } from "../helpers/runtime.js";
import { makeOp, syncClient } from "../helpers/sync.js";

/** `GET /v1/me/usage` (SPEC §3.3): what the limits have counted today, against the tier's limits. */
const rt = useRuntime();
const sync = syncClient(rt);

describe("GET /v1/me/usage", () => {
  it("a free user's pushes and pulls show as today's data, queue and bandwidth use against the free limits", async () => {
    // Prepare
    const user = await sync.user("usage-free", ["phone", "tablet"]);
    const before = await rt.request("GET", "/v1/me/usage", { token: user.token });
    const ops = [makeOp({ payload: { note: "x".repeat(2_000) } }), makeOp({ payload: { note: "y".repeat(2_000) } })];

    // Act
    expect((await sync.push(user.token, user.devices.phone!, ops)).status).toBe(200);
    const after = await rt.request("GET", "/v1/me/usage", { token: user.token });

    // Assess
    const policy = policyFor("free");
    expect(before.status).toBe(200);
    expect(before.headers.get("cache-control")).toBe("private, no-store");
    expect(before.json).toMatchObject({ tier: "free", dailyData: { usedBytes: 0, limitBytes: policy.dailyDataBytes }, offlineQueue: { limitOps: policy.offlineQueueLimit } });
    expect(after.json.dailyData.usedBytes).toBeGreaterThanOrEqual(4_000);
    expect(after.json.bandwidth.availableBytes).toBeLessThan(before.json.bandwidth.availableBytes);
    expect(after.json.bandwidth.capacityBytes).toBe(before.json.bandwidth.capacityBytes);
  });

  it("a premium user's unlimited limits are null, and another user's use is not shown", async () => {
    // Prepare
    const premium = await sync.user("usage-premium", ["phone"], "premium");
    const other = await sync.user("usage-other", ["phone"]);
    await sync.push(other.token, other.devices.phone!, [makeOp({ payload: { note: "z".repeat(3_000) } })]);

    // Act
    const answer = await rt.request("GET", "/v1/me/usage", { token: premium.token });

    // Assess
    const policy = policyFor("premium");
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ tier: "premium", dailyData: { usedBytes: 0, limitBytes: policy.dailyDataBytes } });
    if (policy.bandwidthBytesPerSecond === null) expect(answer.json.bandwidth).toEqual({ availableBytes: null, capacityBytes: null, bytesPerSecond: null });
  });
});
