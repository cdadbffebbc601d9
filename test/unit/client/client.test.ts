import { afterEach, describe, expect, it } from "vitest";
import type { PaysyncClient } from "@paysync/client";
import { makeClient, world, type World } from "./fakes/harness.js";

const started: PaysyncClient[] = [];

function client(w: World, overrides: Parameters<typeof makeClient>[1] = {}): PaysyncClient {
  const c = makeClient(w, { realtimeUrl: false, ...overrides });
  started.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

describe("status", () => {
  it("counts pending writes per priority, says offline, and marks each priority synced once its ops arrive", async () => {
    // Prepare
    const w = await world();
    let networkUp = false;
    const c = client(w, {
      backoff: { baseMs: 1_000, capMs: 1_000 }, crisisBackoff: { baseMs: 1_000, capMs: 1_000 },
      fetch: (url, init) => (networkUp ? w.server.fetch(url, init) : Promise.reject(new TypeError("offline"))),
    });
    await c.write("safety_plan", "current", { warningSigns: ["a"] });
    await c.write("mood_entry", "m-1", { mood: 2 });
    await c.write("history", "h-1", { n: 1 });
    await c.start();
    await w.clock.advance(10);
    const offline = c.status();

    // Act
    networkUp = true;
    await w.clock.until(() => c.pending().length === 0 && c.status().lastPulledAt !== null);
    const online = c.status();

    // Assess
    const pendingOf = (s: typeof offline, p: number) => s.priorities.find((x) => x.priority === p)!.pending;
    expect(offline).toMatchObject({ running: true, online: false, pending: 3 });
    expect([10, 6, 3].map((p) => pendingOf(offline, p))).toEqual([1, 1, 1]);
    expect(offline.lastError).toMatchObject({ code: "network_error" });
    expect(online).toMatchObject({ online: true, pending: 0, lastError: null });
    expect(online.priorities.every((p) => p.lastSyncedAt !== null)).toBe(true);
    expect(online.lastPushedAt).not.toBeNull();
  });

  it("syncNow resolves when this round of push and pull is done", async () => {
    // Prepare
    const w = await world();
    w.server.minIntervalMs = 3_600_000;
    const c = client(w);
    await c.start();
    await w.clock.until(() => c.status().hasSynced);
    w.server.remoteWrite("tablet-1", "mood_entry", "m-9", { mood: 9 });
    await c.write("check_in", "c-1", { ok: true });

    // Act
    await c.syncNow();

    // Assess
    expect(c.pending()).toEqual([]);
    expect(c.get("mood_entry", "m-9")).toMatchObject({ payload: { mood: 9 } });
  });

  it("a listener that throws breaks neither sync nor the other listeners", async () => {
    // Prepare
    const w = await world();
    const c = client(w);
    const seen: string[] = [];
    const errors = console.error;
    console.error = () => undefined;
    c.on("change", () => {
      throw new Error("app bug");
    });
    c.on("change", (e) => seen.push(e.entityId));

    // Act
    try {
      await c.start();
      await c.write("mood_entry", "m-1", { mood: 1 });
      await w.clock.until(() => c.pending().length === 0);
    } finally {
      console.error = errors;
    }

    // Assess
    expect(seen).toEqual(["m-1", "m-1"]);
  });

  it("a refused token is asked for again with forceRefresh, and the request retried", async () => {
    // Prepare
    const w = await world();
    const asked: boolean[] = [];
    const c = client(w, {
      getToken: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return forceRefresh ? "token-fresh" : "expired";
      },
    });

    // Act
    await c.start();
    await c.write("mood_entry", "m-1", { mood: 1 });
    await w.clock.until(() => c.pending().length === 0);

    // Assess
    expect(asked).toContain(true);
    expect(w.server.applyCount.size).toBe(1);
  });

  it("registers the device once, with its platform and app version, and again when the app version changes", async () => {
    // Prepare
    const w = await world();
    const first = client(w);
    await first.start();
    await w.clock.advance(100);
    await first.stop();

    // Act
    const same = client(w);
    await same.start();
    await w.clock.advance(100);
    await same.stop();
    const upgraded = client(w, { appVersion: "1.1.0" });
    await upgraded.start();
    await w.clock.advance(100);

    // Assess
    const registrations = w.server.requests.filter((r) => r.route === "devices").map((r) => r.body);
    expect(registrations).toEqual([
      { deviceId: "phone-1", platform: "ios", appVersion: "1.0.0" },
      { deviceId: "phone-1", platform: "ios", appVersion: "1.1.0" },
    ]);
    expect(w.server.requests.every((r) => r.route === "jwks" || r.headers["x-paysync-protocol"] === "1")).toBe(true);
  });
});

describe("conflicts", () => {
  it("a manual conflict is surfaced to the app, and resolving it updates the device at once", async () => {
    // Prepare
    const w = await world();
    w.server.manualConflicts = true;
    w.server.minIntervalMs = 3_600_000;
    w.server.remoteWrite("tablet-1", "mood_entry", "m-1", { mood: 1 });
    const c = client(w);
    const lists: number[] = [];
    c.on("conflicts", (list) => lists.push(list.length));
    await c.start();
    await w.clock.until(() => c.status().hasSynced);
    w.server.remoteWrite("tablet-1", "mood_entry", "m-1", { mood: 2 });

    // Act
    await c.write("mood_entry", "m-1", { mood: 7 });
    await w.clock.until(() => c.conflicts().length === 1);
    const conflict = c.conflicts()[0]!;
    await c.resolveConflict(conflict.id, "take_incoming");

    // Assess
    expect(conflict).toMatchObject({ entityType: "mood_entry", entityId: "m-1", incoming: { payload: { mood: 7 } } });
    expect(c.get("mood_entry", "m-1")).toMatchObject({ version: 3, payload: { mood: 7 }, pending: false });
    expect(w.server.entities.get("mood_entry/m-1")).toMatchObject({ version: 3, payload: { mood: 7 } });
    expect(lists.at(-1)).toBe(0);
    expect(c.conflicts()).toEqual([]);
  });
});
