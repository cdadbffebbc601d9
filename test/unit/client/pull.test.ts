import { afterEach, describe, expect, it } from "vitest";
import type { PaysyncClient } from "@paysync/client";
import { createMemoryStore } from "@paysync/client/store/memory";
import type { ClientStore } from "@paysync/client/store/store";
import { makeClient, world, type World } from "./fakes/harness.js";
import { FakeWebSocket } from "./fakes/websocket.js";

const started: PaysyncClient[] = [];
const pulls = (w: World) => w.server.requests.filter((r) => r.route === "pull");

function client(w: World, overrides: Parameters<typeof makeClient>[1] = {}): PaysyncClient {
  const c = makeClient(w, { realtimeUrl: false, ...overrides });
  started.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

/** Three entities written by another device, plus a server-originated one. */
function seed(w: World): void {
  w.server.remoteWrite("tablet-1", "mood_entry", "m-1", { mood: 1 });
  w.server.remoteWrite("tablet-1", "mood_entry", "m-2", { mood: 2 });
  w.server.remoteWrite("tablet-1", "check_in", "c-1", { ok: true });
  w.server.serverChange("crisis_directory", "current", { version: 3, regions: ["US"] });
}

describe("bootstrap and feed", () => {
  it("a new device bootstraps from the snapshot in pages, then follows the feed", async () => {
    // Prepare
    const w = await world();
    seed(w);
    const c = client(w, { batching: { initialItems: 2 } });
    const sources: string[] = [];
    c.on("change", (e) => sources.push(`${e.source}:${e.entityType}/${e.entityId}`));

    // Act
    await c.start();
    await w.clock.until(() => c.status().hasSynced);
    w.server.remoteWrite("tablet-1", "mood_entry", "m-1", { mood: 5 });
    await w.clock.advance(1_000);

    // Assess
    expect(pulls(w)[0]!.query.get("cursor")).toBeNull();
    expect(pulls(w)[0]!.query.get("limit")).toBe("2");
    expect(c.list().map((e) => `${e.entityType}/${e.entityId}@${e.version}`)).toEqual([
      "check_in/c-1@1", "crisis_directory/current@1", "mood_entry/m-1@2", "mood_entry/m-2@1",
    ]);
    expect(sources.filter((s) => s.startsWith("snapshot:"))).toHaveLength(4);
    expect(sources.at(-1)).toBe("remote:mood_entry/m-1");
    expect(c.get("crisis_directory", "current")?.payload).toEqual({ version: 3, regions: ["US"] });
    expect(c.status()).toMatchObject({ hasSynced: true, bootstrapping: false });
  });

  it("a change whose version is not above the one held is ignored", async () => {
    // Prepare
    const w = await world();
    const c = client(w);
    await c.start();
    await w.clock.until(() => c.status().hasSynced);
    const first = w.server.remoteWrite("tablet-1", "mood_entry", "m-1", { mood: 1 });
    w.server.remoteWrite("tablet-1", "mood_entry", "m-1", { mood: 2 });
    await w.clock.advance(1_000);

    // Act: a stale copy of version 1 arrives again
    w.server.feed.push({ ...first, seq: w.server.lastSeq + 1, payload: { mood: 99 } });
    await w.clock.advance(1_000);

    // Assess
    expect(c.get("mood_entry", "m-1")).toMatchObject({ version: 2, payload: { mood: 2 } });
  });

  it("waits minIntervalMs between polls and uses the interval the server gives", async () => {
    // Prepare
    const w = await world();
    w.server.minIntervalMs = 15_000;
    const c = client(w);

    // Act
    await c.start();
    await w.clock.advance(60_000);

    // Assess
    const times = pulls(w).map((r) => r.at - pulls(w)[0]!.at);
    expect(times).toEqual([0, 15_000, 30_000, 45_000, 60_000]);
  });

  it("stores the cursor only after the page's changes: a crash in between pulls the page again, and nothing is lost", async () => {
    // Prepare
    const w = await world();
    seed(w);
    const base = w.store;
    let crashOnCursor = true;
    const crashing: ClientStore = {
      get: (k) => base.get(k),
      list: (p) => base.list(p),
      async write(batch) {
        if (crashOnCursor && batch.some((b) => b.key === "meta/pull") && (await base.get<{ cursor: string | null }>("meta/pull"))?.cursor === null && batch.some((b) => "value" in b && (b.value as { cursor?: unknown }).cursor !== null)) {
          throw new Error("power loss");
        }
        return base.write(batch);
      },
    };
    const first = client(w, { store: crashing });
    await first.start();
    await w.clock.advance(100);
    await first.stop();
    const afterCrash = base.dump();

    // Act
    crashOnCursor = false;
    const second = client(w, { store: base });
    await second.start();
    await w.clock.until(() => second.status().hasSynced);

    // Assess
    expect(Object.keys(afterCrash).filter((k) => k.startsWith("entity/"))).toHaveLength(4);
    expect((afterCrash["meta/pull"] as { cursor: string | null }).cursor).toBeNull();
    expect(pulls(w)[0]!.query.get("cursor")).toBeNull();
    expect(pulls(w).find((r, i) => i > 0)?.query.get("cursor")).toBeNull();
    expect(Object.keys(base.dump()).filter((k) => k.startsWith("entity/"))).toHaveLength(4);
    expect(second.list()).toHaveLength(4);
  });
});

describe("resync", () => {
  it("410 rebuilds: entities missing from the new snapshot are removed, pending writes survive", async () => {
    // Prepare
    const w = await world();
    seed(w);
    const c = client(w);
    await c.start();
    await w.clock.until(() => c.status().hasSynced);
    w.server.fail("push", { kind: "network" }, 50);
    await c.write("mood_entry", "m-local", { mood: 4 });
    await c.write("mood_entry", "m-2", { mood: 9 });
    w.server.dropEntity("mood_entry", "m-1");
    w.server.dropEntity("mood_entry", "m-2");
    w.server.remoteWrite("tablet-1", "history", "h-new", { n: 1 });
    w.server.purgedThrough = w.server.lastSeq;
    const removed: string[] = [];
    c.on("change", (e) => e.source === "resync" && removed.push(`${e.entityType}/${e.entityId}`));

    // Act
    await w.clock.until(() => pulls(w).some((r) => r.query.get("cursor") === null && r !== pulls(w)[0]) && c.status().hasSynced && !c.status().bootstrapping);

    // Assess
    expect(removed).toEqual(["mood_entry/m-1"]);
    expect(c.list().map((e) => `${e.entityType}/${e.entityId}`)).toEqual([
      "check_in/c-1", "crisis_directory/current", "history/h-new", "mood_entry/m-2", "mood_entry/m-local",
    ]);
    expect(c.get("mood_entry", "m-2")).toMatchObject({ pending: true, payload: { mood: 9 } });
    expect(c.pending().map((op) => op.entityId)).toEqual(["m-local", "m-2"]);
  });

  it("a rebuild interrupted by a restart finishes from its cursor and still removes what it did not confirm", async () => {
    // Prepare
    const w = await world();
    seed(w);
    const store = createMemoryStore();
    const first = client(w, { store, batching: { initialItems: 1 } });
    await first.start();
    await w.clock.until(() => first.status().hasSynced);
    w.server.dropEntity("check_in", "c-1");
    await first.resync();
    await w.clock.until(() => pulls(w).filter((r) => r.query.get("cursor")?.startsWith("s-")).length >= 1);
    await first.stop();

    // Act
    const second = client(w, { store, batching: { initialItems: 1 } });
    await second.start();
    await w.clock.until(() => second.status().hasSynced && !second.status().bootstrapping);

    // Assess
    expect(second.get("check_in", "c-1")).toBeUndefined();
    expect(second.list()).toHaveLength(3);
  });

  it("429 pull_interval waits Retry-After before the next pull", async () => {
    // Prepare
    const w = await world();
    const c = client(w);
    w.server.fail("pull", { kind: "status", status: 429, code: "limit_exceeded", details: { limit: "pull_interval" }, retryAfter: 42 });

    // Act
    await c.start();
    await w.clock.until(() => c.status().hasSynced);

    // Assess
    expect(pulls(w)[1]!.at - pulls(w)[0]!.at).toBe(42_000);
  });

  it("a pull for a device the server does not know registers it again", async () => {
    // Prepare
    const w = await world();
    const c = client(w);
    await c.start();
    await w.clock.until(() => c.status().hasSynced);
    w.server.devices.clear();

    // Act
    w.server.remoteWrite("tablet-1", "mood_entry", "m-1", { mood: 1 });
    await w.clock.until(() => c.get("mood_entry", "m-1") !== undefined);

    // Assess
    expect(w.server.count("devices")).toBe(2);
  });
});

describe("realtime", () => {
  it("a poke pulls at once, and pokes during a pull coalesce into one more pull", async () => {
    // Prepare
    const w = await world();
    w.server.minIntervalMs = 60_000;
    w.server.latency = (route) => (route === "pull" ? 500 : 0);
    const c = makeClient(w);
    started.push(c);
    await c.start();
    FakeWebSocket.latest().open();
    await w.clock.until(() => c.status().hasSynced);
    const before = pulls(w).length;

    // Act
    const socket = FakeWebSocket.latest();
    socket.poke(10);
    await w.clock.advance(100);
    socket.poke(10);
    socket.poke(7);
    socket.poke(10);
    await w.clock.advance(2_000);

    // Assess
    expect(pulls(w).length - before).toBe(2);
  });

  it("a low-priority poke waits for minIntervalMs; a crisis poke does not", async () => {
    // Prepare
    const w = await world();
    w.server.minIntervalMs = 10_000;
    const c = makeClient(w);
    started.push(c);
    await c.start();
    FakeWebSocket.latest().open();
    await w.clock.until(() => c.status().hasSynced);
    const t0 = w.clock.now();
    const count = () => pulls(w).length;
    const before = count();

    // Act
    FakeWebSocket.latest().poke(4);
    await w.clock.advance(1_000);
    const afterLow = count();
    FakeWebSocket.latest().poke(9);
    await w.clock.advance(100);

    // Assess
    expect(afterLow).toBe(before);
    expect(count()).toBe(before + 1);
    expect(pulls(w).at(-1)!.at - t0).toBe(1_000);
  });

  it("keeps reconnecting and polls at minIntervalMs while the socket is down", async () => {
    // Prepare
    const w = await world();
    w.server.minIntervalMs = 5_000;
    const c = makeClient(w, { random: () => 0.5, backoff: { baseMs: 1_000, capMs: 8_000 } });
    started.push(c);
    await c.start();
    await w.clock.advance(10);

    // Act: every attempt fails
    for (let i = 0; i < 6; i += 1) {
      FakeWebSocket.latest().drop();
      await w.clock.until(() => FakeWebSocket.instances.length === i + 2, 60_000, 10);
    }
    const polled = pulls(w).map((r) => r.at - pulls(w)[0]!.at);

    // Assess
    const opened = FakeWebSocket.instances.map((s) => s.url);
    expect(opened[0]).toBe("ws://paysync.test/v1/realtime?token=token-user-1&deviceId=phone-1");
    expect(opened).toHaveLength(7);
    expect(polled.slice(0, 4)).toEqual([0, 5_000, 10_000, 15_000]);
    expect(c.status().realtime).toBe(false);
  });

  it("reconnect waits follow the back-off: 500, 1000, 2000, 4000, then the cap", async () => {
    // Prepare
    const w = await world();
    const times: number[] = [];
    const c = makeClient(w, { random: () => 0.5, backoff: { baseMs: 1_000, capMs: 8_000 } });
    started.push(c);
    await c.start();
    await w.clock.advance(1);

    // Act
    for (let i = 0; i < 6; i += 1) {
      times.push(w.clock.now());
      FakeWebSocket.latest().drop();
      await w.clock.until(() => FakeWebSocket.instances.length === i + 2, 60_000, 1);
    }
    times.push(w.clock.now());

    // Assess
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toEqual([500, 1_000, 2_000, 4_000, 4_000, 4_000]);
  });

  it("while the socket is up and the tier pokes on every change, polling slows to connectedPollMs", async () => {
    // Prepare
    const w = await world();
    w.server.minIntervalMs = 1_000;
    const c = makeClient(w, { connectedPollMs: 30_000 });
    started.push(c);
    await c.start();
    FakeWebSocket.latest().open();
    await w.clock.until(() => c.entitlements().source === "verified" && c.status().hasSynced);
    const from = pulls(w).length;

    // Act
    await w.clock.advance(60_000);
    const connected = pulls(w).length - from;
    FakeWebSocket.latest().drop();
    await w.clock.advance(10_000);
    const disconnected = pulls(w).length - from - connected;

    // Assess
    expect(connected).toBe(2);
    expect(disconnected).toBeGreaterThanOrEqual(9);
  });

  it("a socket that does not open within the connect timeout is dropped and retried", async () => {
    // Prepare
    const w = await world();
    const c = makeClient(w, { timeouts: { connectMs: 3_000 }, random: () => 0 });
    started.push(c);
    await c.start();

    // Act
    await w.clock.advance(3_100);

    // Assess
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(FakeWebSocket.instances[0]!.closed).toBe(true);
  });

  it("the watchdog aborts a hung pull and the next attempt succeeds", async () => {
    // Prepare
    const w = await world();
    seed(w);
    w.server.fail("pull", { kind: "hang" });
    const c = client(w, { timeouts: { requestMs: 4_000 } });

    // Act
    await c.start();
    await w.clock.until(() => c.status().hasSynced);

    // Assess
    expect(pulls(w)[1]!.at - pulls(w)[0]!.at).toBeGreaterThanOrEqual(4_000);
    expect(c.list()).toHaveLength(4);
    expect(c.status().lastError).toBeNull();
  });
});
