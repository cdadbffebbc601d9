import { afterEach, describe, expect, it } from "vitest";
import type { PaysyncClient } from "@paysync/client";
import { makeClient, world, type World } from "./fakes/harness.js";

const pushes = (w: World) => w.server.requests.filter((r) => r.route === "push");
const pushedOps = (w: World) => pushes(w).map((r) => (r.body as { ops: Array<{ opId: string; entityType: string; entityId: string; payload?: unknown }> }).ops);
const started: PaysyncClient[] = [];

async function startClient(w: World, overrides: Parameters<typeof makeClient>[1] = {}): Promise<PaysyncClient> {
  const client = makeClient(w, { realtimeUrl: false, ...overrides });
  started.push(client);
  await client.start();
  return client;
}

/** A client that has not started: writes only queue, as when the app is offline. */
function offlineClient(w: World, overrides: Parameters<typeof makeClient>[1] = {}): PaysyncClient {
  const client = makeClient(w, { realtimeUrl: false, ...overrides });
  started.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

describe("the op queue", () => {
  it("survives a restart: ops written offline are pushed by the next instance on the same store, once", async () => {
    // Prepare
    const w = await world();
    w.server.fail("devices", { kind: "network" }, 100);
    const first = await startClient(w);
    const op = await first.write("mood_entry", "m-1", { mood: 2 });
    await w.clock.advance(5_000);
    await first.stop();
    w.server.clearFaults();

    // Act
    const second = await startClient(w);
    await w.clock.until(() => second.pending().length === 0);

    // Assess
    expect(second.pending()).toEqual([]);
    expect(w.server.applyCount.get(op.opId)).toBe(1);
    expect(pushedOps(w).flat().map((o) => o.opId)).toEqual([op.opId]);
  });

  it("keeps an op's id across restarts, so a push the server applied but never answered is applied once", async () => {
    // Prepare
    const w = await world();
    w.server.fail("push", { kind: "drop_after" });
    const first = await startClient(w);
    const op = await first.write("mood_entry", "m-1", { mood: 2 });
    await w.clock.until(() => w.server.count("push") === 1);
    await first.stop();

    // Act
    const second = await startClient(w);
    await w.clock.until(() => second.pending().length === 0);

    // Assess
    expect(w.server.applyCount.get(op.opId)).toBe(1);
    expect(pushedOps(w).map((ops) => ops.map((o) => o.opId))).toEqual([[op.opId], [op.opId]]);
    expect(second.get("mood_entry", "m-1")).toMatchObject({ version: 1, pending: false, payload: { mood: 2 } });
  });

  it("a write is readable at once, pending, with the version it will become", async () => {
    // Prepare
    const w = await world();
    w.server.fail("devices", { kind: "network" }, 100);
    const client = await startClient(w);

    // Act
    await client.write("mood_entry", "m-1", { mood: 1 });
    await client.write("mood_entry", "m-1", { mood: 5 });

    // Assess
    expect(client.get("mood_entry", "m-1")).toMatchObject({ version: 2, pending: true, payload: { mood: 5 }, origin: "local" });
    expect(client.pending().map((op) => op.baseVersion)).toEqual([0, 1]);
  });

  it.each([
    { name: "a server-originated type", type: "payment_state", id: "p", payload: {}, code: "validation_error" },
    { name: "an id outside the pattern", type: "mood_entry", id: "has space", payload: {}, code: "validation_error" },
    { name: "an assessment the server cannot score", type: "assessment", id: "a", payload: { instrument: "PHQ-9", answers: [1] }, code: "validation_error" },
    { name: "a payload over 256 KiB", type: "history", id: "h", payload: { blob: "x".repeat(300 * 1024) }, code: "payload_too_large" },
  ])("refuses $name before it is queued", async ({ type, id, payload, code }) => {
    // Prepare
    const w = await world();
    const client = makeClient(w, { realtimeUrl: false });

    // Act
    const attempt = client.write(type, id, payload as never);

    // Assess
    await expect(attempt).rejects.toMatchObject({ code });
    expect(client.pending()).toEqual([]);
  });
});

describe("sending", () => {
  it("one entity's ops reach the server in the order they were made, never two in flight", async () => {
    // Prepare
    const w = await world();
    w.server.latency = (route) => (route === "push" ? 300 : 0);
    const client = await startClient(w, { batching: { initialItems: 1 } });

    // Act
    for (const mood of [1, 2, 3, 4]) await client.write("mood_entry", "m-1", { mood });
    await w.clock.until(() => client.pending().length === 0);

    // Assess
    expect(pushedOps(w).flat().map((o) => (o.payload as { mood: number }).mood)).toEqual([1, 2, 3, 4]);
    const times = pushes(w).map((r) => r.at);
    times.slice(1).forEach((t, i) => expect(t - times[i]!).toBeGreaterThanOrEqual(300));
    expect(w.server.entities.get("mood_entry/m-1")).toMatchObject({ version: 4, payload: { mood: 4 } });
  });

  it("crisis ops go first, alone, ahead of everything queued", async () => {
    // Prepare
    const w = await world();
    const client = offlineClient(w);
    await client.write("history", "h-1", { page: 1 });
    await client.write("mood_entry", "m-1", { mood: 3 });
    await client.write("check_in", "c-1", { ok: true });
    await client.write("safety_plan", "current", { warningSigns: ["isolating"] });

    // Act
    await client.start();
    await w.clock.until(() => client.pending().length === 0);

    // Assess
    const batches = pushedOps(w).map((ops) => ops.map((o) => o.entityType));
    expect(batches[0]).toEqual(["safety_plan"]);
    expect(batches.slice(1).flat()).toEqual(["mood_entry", "check_in", "history"]);
  });

  it("a crisis write is sent at once while a slow batch is still in flight", async () => {
    // Prepare
    const w = await world();
    w.server.latency = (route, items) => (route === "push" && items > 1 ? 10_000 : 20);
    const client = offlineClient(w);
    for (let i = 0; i < 5; i += 1) await client.write("history", `h-${i}`, { i });
    await client.start();
    await w.clock.advance(100);

    // Act
    await client.write("crisis_state", "current", { active: true, level: "high" });
    await w.clock.advance(100);

    // Assess
    expect(w.server.entities.get("crisis_state/current")).toBeDefined();
    expect(w.server.entities.get("history/h-0")).toBeUndefined();
    expect(client.status().priorities.find((p) => p.priority === 10)?.pending).toBe(0);
  });

  it("an assessment's earlier op rides with its later crisis op, in order", async () => {
    // Prepare
    const w = await world();
    const client = offlineClient(w);
    await client.write("mood_entry", "m-1", { mood: 3 });
    await client.write("assessment", "a-1", { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0, 0] });
    await client.write("assessment", "a-1", { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0, 2] });

    // Act
    await client.start();
    await w.clock.until(() => client.pending().length === 0);

    // Assess
    const batches = pushedOps(w).map((ops) => ops.map((o) => `${o.entityType}:${(o.payload as { answers?: number[] }).answers?.[8] ?? "-"}`));
    expect(batches[0]).toEqual(["assessment:0", "assessment:2"]);
    expect(batches[1]).toEqual(["mood_entry:-"]);
  });

  it("honours Retry-After of a tier limit for ops below 8, while a therapeutic op still goes", async () => {
    // Prepare
    const w = await world();
    w.server.limitRetryAfter = 30;
    const client = await startClient(w);
    await client.write("mood_entry", "m-1", { mood: 3 });
    await w.clock.advance(100);
    const refusedAt = pushes(w)[0]!.at;

    // Act
    await client.write("breathing_session", "b-1", { step: 1 });
    await w.clock.advance(20_000);
    const duringLimit = pushedOps(w).slice(1).flat().map((o) => o.entityType);
    w.server.limitRetryAfter = null;
    await w.clock.until(() => client.pending().length === 0);

    // Assess
    expect(duringLimit).toEqual(["breathing_session"]);
    const retried = pushes(w).find((r, i) => i > 0 && (r.body as { ops: Array<{ entityType: string }> }).ops[0]!.entityType === "mood_entry")!;
    expect(retried.at - refusedAt).toBeGreaterThanOrEqual(30_000);
    expect(retried.at - refusedAt).toBeLessThan(31_000);
  });

  it("a 413 takes the op out of the queue into the failed list, tells the app, and sends the rest", async () => {
    // Prepare
    const w = await world();
    const client = offlineClient(w);
    const failed: string[][] = [];
    client.on("failed", (ops) => failed.push(ops.map((o) => o.entityId)));
    await client.write("history", "big", { blob: "x" });
    const ok = await client.write("history", "small", { blob: "y" });
    const big = client.pending()[0]!;
    w.server.fail("push", { kind: "status", status: 413, code: "payload_too_large", details: { ops: [{ opId: big.opId, bytes: 300_000, maxBytes: 262_144 }] } });

    // Act
    await client.start();
    await w.clock.until(() => client.pending().length === 0);
    await w.clock.advance(120_000);

    // Assess
    expect(failed).toEqual([["big"]]);
    expect(client.failed()).toMatchObject([{ opId: big.opId, error: { code: "payload_too_large", status: 413 } }]);
    expect(w.server.applyCount.get(ok.opId)).toBe(1);
    expect(pushedOps(w).flat().filter((o) => o.opId === big.opId)).toHaveLength(1);
    expect(client.status().failed).toBe(1);
  });

  it("a 413 that names no op is narrowed down one op at a time", async () => {
    // Prepare
    const w = await world();
    const client = offlineClient(w);
    await client.write("history", "a", { n: 1 });
    await client.write("history", "b", { n: 2 });
    w.server.fail("push", { kind: "status", status: 413, code: "payload_too_large" }, 2);

    // Act
    await client.start();
    await w.clock.until(() => client.pending().length === 0);

    // Assess
    expect(pushedOps(w).map((ops) => ops.map((o) => o.entityId))).toEqual([["a", "b"], ["a"], ["b"]]);
    expect(client.failed().map((f) => f.entityId)).toEqual(["a"]);
    expect(w.server.entities.has("history/b")).toBe(true);
  });

  it("a burst of 5xx retries the same ops with capped, jittered back-off", async () => {
    // Prepare
    const w = await world();
    w.server.fail("push", { kind: "status", status: 503, code: "service_unavailable" }, 8);
    const client = await startClient(w, { random: () => 0.5, backoff: { baseMs: 500, capMs: 8_000 } });
    const op = await client.write("mood_entry", "m-1", { mood: 3 });

    // Act
    await w.clock.until(() => client.pending().length === 0);

    // Assess
    const gaps = pushes(w).map((r) => r.at).map((t, i, all) => (i === 0 ? 0 : t - all[i - 1]!)).slice(1);
    expect(gaps).toEqual([250, 500, 1_000, 2_000, 4_000, 4_000, 4_000, 4_000]);
    expect(pushedOps(w).every((ops) => ops[0]!.opId === op.opId)).toBe(true);
    expect(w.server.applyCount.get(op.opId)).toBe(1);
  });

  it("the watchdog aborts a hung push, and the retry delivers it", async () => {
    // Prepare
    const w = await world();
    w.server.fail("push", { kind: "hang" });
    const client = await startClient(w, { timeouts: { requestMs: 5_000 } });
    const op = await client.write("mood_entry", "m-1", { mood: 3 });

    // Act
    await w.clock.until(() => client.pending().length === 0);

    // Assess
    const times = pushes(w).map((r) => r.at - pushes(w)[0]!.at);
    expect(times[1]).toBeGreaterThanOrEqual(5_000);
    expect(w.server.applyCount.get(op.opId)).toBe(1);
  });

  it("gzips a push body above 1 KiB and leaves small ones alone", async () => {
    // Prepare
    const w = await world();
    const client = await startClient(w);

    // Act
    await client.write("history", "small", { n: 1 });
    await w.clock.until(() => client.pending().length === 0);
    await client.write("history", "large", { text: "calm ".repeat(1_000) });
    await w.clock.until(() => client.pending().length === 0);

    // Assess
    expect(pushes(w).map((r) => r.gzip)).toEqual([false, true]);
    expect(w.server.entities.get("history/large")?.payload).toEqual({ text: "calm ".repeat(1_000) });
  });

  it("batches grow on a fast server and shrink on a slow one (timeouts first halve them)", async () => {
    // Prepare
    const w = await world();
    let served = 0;
    // 1 ms per op for the first four pushes, then 200 ms per op.
    w.server.latency = (route, items) => (route === "push" ? items * ((served += 1) <= 4 ? 1 : 200) : 0);
    const client = offlineClient(w);
    for (let i = 0; i < 600; i += 1) await client.write("history", `h-${i}`, { i });

    // Act
    await client.start();
    await w.clock.until(() => client.pending().length === 0);

    // Assess
    const sizes = pushedOps(w).map((ops) => ops.length);
    expect(sizes.slice(0, 4)).toEqual([25, 50, 100, 200]);
    expect(sizes.slice(4, 8)).toEqual([225, 200, 100, 7]);
    expect([...w.server.applyCount.values()].every((n) => n === 1)).toBe(true);
    expect(w.server.applyCount.size).toBe(600);
  });

  it("426 stops syncing for good, says so once, and never retries it in a loop", async () => {
    // Prepare
    const w = await world();
    w.server.supported = { min: 2, max: 3 };
    const client = await startClient(w);
    const upgrades: unknown[] = [];
    client.on("upgradeRequired", (range) => upgrades.push(range));
    await client.write("mood_entry", "m-1", { mood: 3 });

    // Act
    await w.clock.advance(600_000);

    // Assess
    expect(upgrades).toEqual([{ min: 2, max: 3 }]);
    expect(client.status().upgradeRequired).toEqual({ min: 2, max: 3 });
    const syncCalls = w.server.requests.filter((r) => ["push", "pull", "devices", "entitlements"].includes(r.route));
    expect(syncCalls.length).toBeLessThanOrEqual(3);
    expect(client.pending()).toHaveLength(1);
  });
});
