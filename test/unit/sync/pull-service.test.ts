import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { policyFor, type Tier } from "@paysync/core/tiers";
import { PullService } from "@paysync/aws/sync/pull-service";
import { device, FixedTier, MemoryDevices, MemoryFeed, MemoryLimits, TransparentCipher } from "../../helpers/in-memory-ports.js";

const USER = `u_${"c".repeat(32)}`;
const NOW = new Date("2026-06-01T12:00:00.000Z");

/** A pull service on in-memory ports: a phone and a tablet, the tablet's feed holding what the phone wrote. */
async function setup(tier: Tier) {
  const ports = {
    feed: new MemoryFeed(), devices: new MemoryDevices(USER, [device("phone"), device("tablet")]),
    limits: new MemoryLimits(), tiers: new FixedTier(tier), cipher: new TransparentCipher(),
  };
  const write = async (entityType: string, priority: number, payload: unknown) => ports.feed.append(USER, [{
    entityType, entityId: `${entityType}-1`, version: 1, action: "upsert", priority, originDeviceId: "phone",
    payloadCipher: await ports.cipher.encrypt(payload, { userKey: USER, entityType }), targetDeviceIds: ["tablet"],
  }], [], NOW);
  return { service: new PullService(ports), ports, write };
}

const pull = (service: PullService, overrides: Partial<Parameters<PullService["pull"]>[0]> = {}) =>
  service.pull({ userKey: USER, deviceId: "tablet", cursor: undefined, limit: 100, acceptsGzip: false, now: NOW, ...overrides });

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
