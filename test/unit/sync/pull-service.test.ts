import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { policyFor, type Tier } from "@paysync/core/tiers";
import { decodeCursor, encodeCursor } from "@paysync/core/sync";
import { PullService } from "@paysync/aws/sync/pull-service";
import { BUNDLED_DIRECTORY } from "@paysync/core/crisis/directory";
import { device, FixedTier, MemoryDevices, MemoryEntities, MemoryFeed, MemoryLimits, TransparentCipher } from "../../helpers/in-memory-ports.js";

const USER = `u_${"c".repeat(32)}`;
const NOW = new Date("2026-06-01T12:00:00.000Z");

/** A pull service on in-memory ports: a phone and a tablet, the tablet's feed holding what the phone wrote. */
async function setup(tier: Tier) {
  const memoryEntities = new MemoryEntities();
  const ports = {
    feed: new MemoryFeed(), devices: new MemoryDevices(USER, [device("phone"), device("tablet")]),
    entities: memoryEntities.asStore(), limits: new MemoryLimits(), tiers: new FixedTier(tier), cipher: new TransparentCipher(),
  };
  const write = async (entityType: string, priority: number, payload: unknown) => ports.feed.append(USER, [{
    entityType, entityId: `${entityType}-1`, version: 1, action: "upsert", priority, originDeviceId: "phone",
    payloadCipher: await ports.cipher.encrypt(payload, { userKey: USER, entityType }), targetDeviceIds: ["tablet"],
  }], [], NOW);
  const entity = async (entityId: string, originDeviceId: string, overrides: { entityType?: string; action?: "upsert" | "delete"; priority?: number; commitSeq?: number } = {}) => {
    const entityType = overrides.entityType ?? "mood_entry";
    memoryEntities.put({
      entityType, entityId, version: 1, action: overrides.action ?? "upsert", originDeviceId, priority: overrides.priority ?? 6,
      commitSeq: overrides.commitSeq ?? 0, payloadCipher: await ports.cipher.encrypt({ entityId }, { userKey: USER, entityType }),
    });
  };
  return { service: new PullService(ports), ports, write, entity };
}

/** The crisis directory version every bootstrap hands out here (no directory port: the bundled copy). */
const DIRECTORY_VERSION = BUNDLED_DIRECTORY.version;

/** A feed pull from the start of the feed by a device that holds the directory (a cursorless pull bootstraps instead). */
const FROM_FEED_START = encodeCursor(0, DIRECTORY_VERSION);

const pull = (service: PullService, overrides: Partial<Parameters<PullService["pull"]>[0]> = {}) =>
  service.pull({ userKey: USER, deviceId: "tablet", cursor: FROM_FEED_START, limit: 100, acceptsGzip: false, now: NOW, ...overrides });

const later = (ms: number) => new Date(NOW.getTime() + ms);

describe("a pull, decided on in-memory ports", () => {
  it("answers the device's changes decrypted, with the tier's pull interval, and charges the bytes sent", async () => {
    // Prepare
    const { service, ports, write } = await setup("basic");
    await write("mood_entry", 6, { mood: 3 });

    // Act
    const page = await pull(service);

    // Assess
    expect(page.response.changes).toEqual([expect.objectContaining({ entityType: "mood_entry", payload: { mood: 3 }, originDeviceId: "phone" })]);
    expect(page.response.minIntervalMs).toBe(policyFor("basic").minPullIntervalMs);
    expect(await ports.limits.dailyUsage(USER, NOW)).toBe(page.body.length);
    expect(ports.devices.touched).toEqual(["tablet"]);
  });

  it.each([
    { case: "nothing urgent waits", urgentWaiting: false, expected: "refused" },
    { case: "a crisis change waits after the cursor", urgentWaiting: true, expected: "served" },
  ])("over the daily allowance, a pull is $expected when $case", async ({ urgentWaiting, expected }) => {
    // Prepare
    const { service, ports, write } = await setup("free");
    await ports.limits.chargeDaily(USER, policyFor("free"), policyFor("free").dailyDataBytes!, "pull", NOW, false);
    await write("mood_entry", 6, { mood: 1 });
    if (urgentWaiting) await write("safety_plan", 10, { warningSigns: ["w"] });

    // Act
    const outcome = await pull(service).then(() => "served", (error: { code?: string }) => (error.code === "limit_exceeded" ? "refused" : "failed"));

    // Assess
    expect(outcome).toBe(expected);
  });

  it.each([
    { tier: "free" as const, acceptsGzip: true, gzipped: true },
    { tier: "free" as const, acceptsGzip: false, gzipped: false },
    { tier: "premium" as const, acceptsGzip: true, gzipped: false },
  ])("$tier with acceptsGzip=$acceptsGzip is gzipped: $gzipped (premium's level is 0)", async ({ tier, acceptsGzip, gzipped }) => {
    // Prepare
    const { service, write } = await setup(tier);
    await write("check_in", 4, { note: "x".repeat(2_000) });

    // Act
    const page = await pull(service, { acceptsGzip });

    // Assess
    expect(page.gzipped).toBe(gzipped);
    const text = gzipped ? gunzipSync(page.body).toString("utf8") : page.body.toString("utf8");
    expect(JSON.parse(text)).toEqual(page.response);
  });

  it("answers 404 for a device that is not the caller's, and reads nothing else", async () => {
    // Prepare
    const { service } = await setup("premium");

    // Act
    const attempt = pull(service, { deviceId: "someone-elses" });

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("a bootstrap, decided on in-memory ports", () => {
  it.each([
    { tier: "premium" as const, expected: ["crisis_directory/current", "crisis_state/current", "mood_entry/other", "mood_entry/own", "payment_state/payment_state"] },
    { tier: "free" as const, expected: ["crisis_directory/current", "crisis_state/current", "mood_entry/own", "payment_state/payment_state"] },
  ])("on $tier, a cursorless pull carries the live entities the device may see, never a tombstone", async ({ tier, expected }) => {
    // Prepare
    const { service, entity } = await setup(tier);
    await entity("own", "tablet");
    await entity("other", "phone");
    await entity("gone", "phone", { action: "delete" });
    await entity("current", "phone", { entityType: "crisis_state", priority: 10 });
    await entity("payment_state", "server", { entityType: "payment_state", priority: 7 });

    // Act
    const page = await pull(service, { cursor: undefined });

    // Assess
    expect(page.response.changes.map((c) => `${c.entityType}/${c.entityId}`)).toEqual(expected);
    expect(page.response.changes.every((c) => c.snapshot === true && c.action === "upsert")).toBe(true);
    expect(page.response.phase).toBe("feed");
  });

  it("pages the snapshot in key order, then switches to the feed at the snapshot point", async () => {
    // Prepare
    const { service, entity, write } = await setup("basic");
    for (const id of ["a", "b", "c"]) await entity(id, "phone");
    await write("check_in", 4, { n: 1 }); // seq 1: the snapshot point is 1

    // Act
    const first = await pull(service, { cursor: undefined, limit: 2 });
    const second = await pull(service, { cursor: first.response.cursor, limit: 2 });
    const feed = await pull(service, { cursor: second.response.cursor, limit: 2, now: later(15_000) });

    // Assess
    expect([first.response.phase, second.response.phase]).toEqual(["snapshot", "feed"]);
    expect([...first.response.changes, ...second.response.changes].map((c) => c.entityId)).toEqual(["current", "a", "b", "c"]);
    expect(second.response.cursor).toBe(encodeCursor(1, DIRECTORY_VERSION));
    expect(feed.response.changes).toEqual([]);
  });

  it("leaves an entity written after the snapshot point to the feed only when the feed holds that change", async () => {
    // Prepare
    const { service, entity } = await setup("basic");
    await entity("written-later-without-a-change-for-me", "phone", { commitSeq: 5 });

    // Act
    const page = await pull(service, { cursor: undefined });

    // Assess
    expect(page.response.changes.map((c) => c.entityId)).toEqual(["current", "written-later-without-a-change-for-me"]);
  });
});

describe("the crisis directory on every pull, decided on in-memory ports", () => {
  /** A directory store holding `version` (undefined: nothing stored), or failing. */
  const directoryStore = (state: { version?: number; failing?: boolean }) => ({
    current: async () => {
      if (state.failing) throw new Error("storage down");
      return state.version === undefined ? undefined : { ...BUNDLED_DIRECTORY, version: state.version };
    },
    put: async () => undefined,
  });
  const withDirectory = async (state: { version?: number; failing?: boolean }) => {
    const built = await setup("free");
    return { ...built, service: new PullService({ ...built.ports, directory: directoryStore(state) }) };
  };
  const directoryChanges = (page: Awaited<ReturnType<PullService["pull"]>>) => page.response.changes.filter((c) => c.entityType === "crisis_directory");

  it.each([
    { case: "a bootstrap", cursor: undefined, stored: 4, carried: [4], cursorVersion: 4 },
    { case: "a cursor from before the directory existed", cursor: encodeCursor(0), stored: 4, carried: [4], cursorVersion: 4 },
    { case: "a cursor behind the current version", cursor: encodeCursor(0, 3), stored: 4, carried: [4], cursorVersion: 4 },
    { case: "a cursor at the current version", cursor: encodeCursor(0, 4), stored: 4, carried: [], cursorVersion: 4 },
    { case: "nothing stored, on a bootstrap: the bundled copy", cursor: undefined, stored: undefined, carried: [1], cursorVersion: 1 },
  ])("carries it on $case", async ({ cursor, stored, carried, cursorVersion }) => {
    // Prepare
    const { service, write } = await withDirectory({ version: stored });
    await write("mood_entry", 6, { mood: 2 });

    // Act
    const page = await pull(service, { cursor });

    // Assess
    expect(directoryChanges(page).map((c) => c.version)).toEqual(carried);
    expect(directoryChanges(page).every((c) => c.entityId === "current" && c.action === "upsert" && c.originDeviceId === null)).toBe(true);
    expect(directoryChanges(page).every((c) => (c.payload as { version: number }).version === c.version)).toBe(true);
    expect(decodeCursor(page.response.cursor).directoryVersion).toBe(cursorVersion);
  });

  it("marks it a snapshot in a bootstrap and a plain change in the feed", async () => {
    // Prepare
    const { service } = await withDirectory({ version: 4 });

    // Act
    const bootstrap = await pull(service, { cursor: undefined });
    const feed = await pull(service, { cursor: encodeCursor(0, 2), now: later(600_000) });

    // Assess
    expect(directoryChanges(bootstrap)[0]?.snapshot).toBe(true);
    expect(directoryChanges(feed)[0]?.snapshot).toBeUndefined();
  });

  it("goes without it when it cannot be read, keeping the cursor's version so a later page brings it", async () => {
    // Prepare
    const { service, write } = await withDirectory({ failing: true });
    await write("mood_entry", 6, { mood: 2 });

    // Act
    const page = await pull(service, { cursor: encodeCursor(0, 2) });

    // Assess
    expect(directoryChanges(page)).toEqual([]);
    expect(page.response.changes.map((c) => c.entityType)).toEqual(["mood_entry"]);
    expect(decodeCursor(page.response.cursor).directoryVersion).toBe(2);
  });
});

describe("resync and the pull interval, decided on in-memory ports", () => {
  it("answers resync_required for a cursor below the device's purge watermark", async () => {
    // Prepare
    const { service, ports } = await setup("basic");
    ports.feed.purgedThrough.set("tablet", 3);

    // Act
    const attempt = pull(service, { cursor: encodeCursor(2) });

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: "resync_required" });
  });

  it.each([
    { case: "after the interval", waitMs: 15_000, urgent: false, poked: false, expected: "served" },
    { case: "before the interval", waitMs: 1_000, urgent: false, poked: false, expected: "pull_interval" },
    { case: "before the interval with a priority-7 change waiting", waitMs: 1_000, urgent: true, poked: false, expected: "served" },
    { case: "before the interval after a poke", waitMs: 1_000, urgent: false, poked: true, expected: "served" },
  ])("a basic device pulling again $case is $expected", async ({ waitMs, urgent, poked, expected }) => {
    // Prepare
    const { service, ports, write } = await setup("basic");
    const first = await pull(service);
    if (urgent) await write("premium_content", 7, { n: 1 });
    else await write("check_in", 4, { n: 1 });
    if (poked) await ports.devices.recordPoke(USER, "tablet", NOW.getTime() + 10);

    // Act
    const outcome = await pull(service, { cursor: first.response.cursor, now: later(waitMs) })
      .then(() => "served", (error: { details?: { limit?: string } }) => error.details?.limit ?? "failed");

    // Assess
    expect(outcome).toBe(expected);
  });

  it("serves the follow-up of a page that said hasMore at once", async () => {
    // Prepare
    const { service, write } = await setup("free");
    await write("safety_plan", 10, { a: 1 });
    await write("emergency_contacts", 10, { b: 1 });
    const first = await pull(service, { limit: 1 });

    // Act
    const second = await pull(service, { cursor: first.response.cursor, limit: 1, now: later(10) });

    // Assess
    expect(first.response.hasMore).toBe(true);
    expect(second.response.changes).toHaveLength(1);
  });
});
