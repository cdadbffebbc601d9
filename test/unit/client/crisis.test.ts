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

/** A device that has synced once: its kit is cached. */
async function synced(w: World): Promise<PaysyncClient> {
  const c = client(w);
  await c.start();
  await w.clock.until(() => c.crisisKit().source === "cache" && c.status().hasSynced);
  return c;
}

describe("crisis kit", () => {
  it("on a fresh install with no network, the kit still holds 988 and activation still answers", async () => {
    // Prepare
    const w = await world();
    const c = client(w, { fetch: async () => { throw new TypeError("offline"); } });

    // Act
    const before = c.crisisKit();
    const { kit, delivered } = await c.activateCrisis({ level: "high", source: "button" });

    // Assess
    expect(before.source).toBe("builtin");
    expect(before.resources.hotline).toMatchObject({ call: "988", text: "988" });
    expect(delivered).toBe(false);
    expect(kit).toMatchObject({ source: "builtin", crisisMode: { active: true, level: "high" }, undelivered: 1 });
  });

  it("offline, activation answers from the cache at once, and is sent first when the network returns", async () => {
    // Prepare
    const w = await world();
    const c = await synced(w);
    w.server.fail("activate", { kind: "network" }, 3);
    w.server.fail("push", { kind: "network" }, 3);
    await c.write("mood_entry", "m-1", { mood: 1 });
    const t0 = w.clock.now();

    // Act
    const { kit, delivered } = await c.activateCrisis({ level: "high", source: "button" });
    const answeredAfter = w.clock.now() - t0;
    w.server.clearFaults();
    const cut = w.server.requests.length;
    await w.clock.until(() => w.server.activations.length === 1 && c.pending().length === 0, 60_000);

    // Assess
    expect(answeredAfter).toBe(0);
    expect(delivered).toBe(false);
    expect(kit).toMatchObject({ source: "cache", crisisMode: { active: true, level: "high", source: "button" }, undelivered: 1 });
    expect(kit.resources).toMatchObject({ directoryVersion: 1, lines: [{ id: "us-988" }] });
    const after = w.server.requests.slice(cut).filter((r) => r.route === "activate" || r.route === "push").map((r) => r.route);
    expect(after[0]).toBe("activate");
    expect(w.server.activations).toMatchObject([{ deviceId: "phone-1", level: "high", source: "button" }]);
    expect(c.crisisKit().undelivered).toBe(0);
  });

  it("a slow network gets the cached answer at the deadline; the activation lands once, later", async () => {
    // Prepare
    const w = await world();
    const c = await synced(w);
    w.server.fail("activate", { kind: "delay", ms: 5_000 });
    const t0 = w.clock.now();

    // Act
    const pending = c.activateCrisis({ level: "imminent", source: "button" });
    await w.clock.advance(1_500);
    const result = await pending;
    const answeredAfter = w.clock.now() - t0;
    await w.clock.advance(10_000);

    // Assess
    expect(answeredAfter).toBe(1_500);
    expect(result.delivered).toBe(false);
    expect(result.kit.crisisMode).toMatchObject({ active: true, level: "imminent" });
    expect(w.server.activations).toHaveLength(1);
    expect(c.crisisKit().undelivered).toBe(0);
  });

  it("an online activation is delivered within the deadline with the server's resources", async () => {
    // Prepare
    const w = await world();
    const c = await synced(w);

    // Act
    const result = await c.activateCrisis({ level: "moderate", source: "assessment" });

    // Assess
    expect(result.delivered).toBe(true);
    expect(result.kit.crisisMode).toMatchObject({ active: true, level: "moderate", source: "assessment" });
    expect(w.server.activations).toHaveLength(1);
  });

  it("an activation recorded offline survives a restart and is delivered by the next instance", async () => {
    // Prepare
    const w = await world();
    w.server.fail("activate", { kind: "network" }, 100);
    const first = client(w);
    await first.activateCrisis({ level: "high", source: "clinician" });
    await first.stop();
    w.server.clearFaults();

    // Act
    const second = client(w);
    await second.start();
    await w.clock.until(() => w.server.activations.length === 1, 30_000);

    // Assess
    const order = w.server.requests.filter((r) => r.route === "devices" || r.route === "activate").map((r) => r.route);
    expect(order[0]).toBe("devices");
    expect(w.server.activations).toMatchObject([{ level: "high", source: "clinician" }]);
    expect(second.crisisKit().undelivered).toBe(0);
  });

  it("works while sync has stopped for an upgrade: the crisis routes answer every version", async () => {
    // Prepare
    const w = await world();
    const c = await synced(w);
    w.server.supported = { min: 2, max: 2 };
    await w.clock.until(() => c.status().upgradeRequired !== null);

    // Act
    const result = await c.activateCrisis({ level: "high", source: "button" });

    // Assess
    expect(result.delivered).toBe(true);
    expect(c.crisisKit().source).toBe("cache");
  });

  it("while sync has stopped for an upgrade, a safety plan edit still reaches the server over its crisis route", async () => {
    // Prepare
    const w = await world();
    w.server.supported = { min: 2, max: 2 };
    const c = client(w);
    await c.start();
    await w.clock.until(() => c.status().upgradeRequired !== null);

    // Act
    await c.write("safety_plan", "current", { warningSigns: ["pacing"] });
    await c.write("mood_entry", "m-1", { mood: 2 });
    await w.clock.until(() => c.pending().length === 1);

    // Assess
    expect(w.server.entities.get("safety_plan/current")).toMatchObject({ version: 1, payload: { warningSigns: ["pacing"] } });
    expect(c.pending().map((op) => op.entityType)).toEqual(["mood_entry"]);
    expect(c.get("safety_plan", "current")).toMatchObject({ version: 1, pending: false });
    expect(w.server.count("push")).toBe(0);
  });

  it("shows the newest safety plan the device knows, a local edit not yet synced included", async () => {
    // Prepare
    const w = await world();
    const c = await synced(w);
    w.server.fail("push", { kind: "network" }, 100);

    // Act
    await c.write("safety_plan", "current", { warningSigns: ["not sleeping"], copingStrategies: ["walk"] });

    // Assess
    expect(c.crisisKit().safetyPlan).toMatchObject({ warningSigns: ["not sleeping"] });
  });

  it("re-reads the resources with If-None-Match when the directory changes on the feed", async () => {
    // Prepare
    const w = await world();
    const c = await synced(w);
    const kits: number[] = [];
    c.on("crisisKit", (kit) => kits.push(Number(kit.resources.directoryVersion)));

    // Act
    w.server.serverChange("crisis_directory", "current", { version: 1 });
    await w.clock.advance(2_000);
    w.server.directoryVersion = 2;
    w.server.serverChange("crisis_directory", "current", { version: 2 });
    await w.clock.advance(2_000);

    // Assess
    const calls = w.server.requests.filter((r) => r.route === "resources");
    expect(calls[1]!.headers["if-none-match"]).toBe('"d1"');
    expect(kits.at(-1)).toBe(2);
    expect(c.crisisKit().directory).toEqual({ version: 2 });
  });
});
