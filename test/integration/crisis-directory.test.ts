import { afterAll, describe, expect, it } from "vitest";
import { BUNDLED_DIRECTORY_DATA } from "@paysync/core/crisis/directory-data";
import { CRISIS_DIRECTORY_CURRENT_KEY } from "@paysync/aws/store/keys";
import { partition } from "../helpers/fuzz-checks.js";
import { eventually, useRuntime, scanAll } from "../helpers/runtime.js";
import { syncClient } from "../helpers/sync.js";

/**
 * The crisis directory on the real runtime (SPEC.md §4.2): region selection, fallback, ETag /
 * 304, operators' updates through the admin route. Updates store the bundled lines plus a
 * marker line, and the last test stores the bundled lines again, so other files see the usual
 * directory (versions only grow).
 */
const rt = useRuntime();
const sync = syncClient(rt);
/** `token: null`: no Authorization header at all. */
const ops = (method: string, body?: unknown, token: string | null = rt.secrets.adminToken) =>
  rt.request(method, "/admin/crisis-directory", { body, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
const directoryItems = () => partition(rt.dynamo, rt.resources.tables.Sync, CRISIS_DIRECTORY_CURRENT_KEY.pk);
const auditEntries = async (action: string) => ((await scanAll(rt.dynamo, {
  TableName: rt.resources.tables.Audit, FilterExpression: "#a = :a", ExpressionAttributeNames: { "#a": "action" }, ExpressionAttributeValues: { ":a": action }, ConsistentRead: true,
}))) as Array<{ outcome: string; version?: number; actor: string; count?: number }>;
/** The bundled directory with one more line in France: a version to store and to look for. */
const withMarker = (marker: string) => ({
  ...BUNDLED_DIRECTORY_DATA,
  regions: {
    ...BUNDLED_DIRECTORY_DATA.regions,
    FR: [{ id: `fr-${marker}`, name: "3114 (numéro national de prévention du suicide)", call: "3114", languages: ["fr"], hours: "24 hours, 7 days", sourceUrl: "https://3114.fr/", lastChecked: "2026-12-02" }],
  },
});
let userSeq = 0;
const newToken = (label: string) => rt.token(`directory-${Date.now()}-${++userSeq}-${label}`);

interface Line { id: string; call?: string; text?: { number: string; message?: string }; url?: string }

describe("GET /v1/crisis/resources answers the region's lines and the fallback", () => {
  it.each([
    { case: "US without a region", query: "", region: "US", calls: ["988"], texts: ["988", "741741"] },
    { case: "?region=GB", query: "?region=GB", region: "GB", calls: ["116 123"], texts: ["85258"] },
    { case: "?region=ie in lower case", query: "?region=ie", region: "IE", calls: ["116 123"], texts: [] },
    { case: "?region=CA", query: "?region=CA", region: "CA", calls: ["988"], texts: ["988"] },
    { case: "?region=AU", query: "?region=AU", region: "AU", calls: ["13 11 14"], texts: [] },
    { case: "?region=UK as GB", query: "?region=UK", region: "GB", calls: ["116 123"], texts: ["85258"] },
    { case: "a well-formed region it does not list (FR): the fallback only", query: "?region=FR", region: "FR", calls: [], texts: [] },
  ])("for $case", async ({ query, region, calls, texts }) => {
    // Prepare
    const token = await newToken("region");

    // Act
    const response = await rt.request("GET", `/v1/crisis/resources${query}`, { token });

    // Assess
    expect(response.status).toBe(200);
    const lines = response.json.lines as Line[];
    expect(response.json.region).toBe(region);
    expect(lines.flatMap((l) => (l.call ? [l.call] : []))).toEqual(calls);
    expect(lines.flatMap((l) => (l.text ? [l.text.number] : []))).toEqual(texts);
    expect((response.json.fallback as Line[]).map((l) => l.url)).toContain("https://findahelpline.com/");
    expect(response.json.directoryVersion).toEqual(expect.any(Number));
    expect(response.json.degraded).toBeUndefined();
  });

  it("lists 988's options 1 (Veterans) and 2 (Spanish), and no option 3", async () => {
    // Act
    const response = await rt.request("GET", "/v1/crisis/resources?region=US", { token: await newToken("options") });

    // Assess
    const lifeline = (response.json.lines as Array<Line & { options: { press: string }[] }>).find((l) => l.call === "988");
    expect(lifeline?.options.map((o) => o.press)).toEqual(["1", "2"]);
  });

  it.each(["USA", "1", "u-s", "%C3%BC", "US,GB"])("answers 400 with the error shape to the malformed region %j", async (region) => {
    // Act
    const response = await rt.request("GET", `/v1/crisis/resources?region=${region}`, { token: await newToken("bad-region") });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { code: "validation_error", message: expect.any(String) } });
  });
});

describe("a user's saved region", () => {
  it("answers calls without ?region= with the saved region's lines, and ?region= still wins", async () => {
    // Prepare
    const token = await newToken("saved-region");
    expect((await rt.request("GET", "/v1/crisis/resources", { token })).json.region).toBe("US");

    // Act
    const saved = await rt.request("PUT", "/v1/crisis/region", { token, body: { region: "gb" } });
    const resources = await rt.request("GET", "/v1/crisis/resources", { token });
    const asked = await rt.request("GET", "/v1/crisis/resources?region=AU", { token });
    const activation = await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: "no-such-device", level: "high", source: "button" } });

    // Assess
    expect(saved.status).toBe(200);
    expect(saved.json).toEqual({ region: "GB" });
    expect(resources.json.region).toBe("GB");
    expect((resources.json.lines as Line[]).map((l) => l.call ?? l.text?.number)).toEqual(["116 123", "85258"]);
    expect(asked.json.region).toBe("AU");
    expect(activation.status).toBe(404);
  });

  it("is the region an activation answers with", async () => {
    // Prepare
    const userToken = await newToken("saved-region-activate");
    const deviceId = `phone-${Date.now()}-${++userSeq}`;
    expect((await rt.request("POST", "/v1/devices", { token: userToken, body: { deviceId, platform: "ios" } })).status).toBe(201);
    expect((await rt.request("PUT", "/v1/crisis/region", { token: userToken, body: { region: "CA" } })).status).toBe(200);

    // Act
    const activation = await rt.request("POST", "/v1/crisis/activate", { token: userToken, body: { deviceId, level: "high", source: "button" } });

    // Assess
    expect(activation.status).toBe(200);
    expect(activation.json).toMatchObject({ region: "CA", lines: [expect.objectContaining({ call: "988", id: "ca-988" })] });
  });

  it.each([
    { case: "a three-letter code", body: { region: "GBR" } },
    { case: "no region", body: {} },
    { case: "an unknown field", body: { region: "GB", city: "London" } },
    { case: "a number", body: { region: 44 } },
  ])("answers 400 to $case and keeps the saved region", async ({ body }) => {
    // Prepare
    const token = await newToken("bad-saved-region");
    expect((await rt.request("PUT", "/v1/crisis/region", { token, body: { region: "IE" } })).status).toBe(200);

    // Act
    const response = await rt.request("PUT", "/v1/crisis/region", { token, body });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { code: "validation_error" } });
    expect((await rt.request("GET", "/v1/crisis/resources", { token })).json.region).toBe("IE");
  });
});

describe("crisis resources revalidate with an ETag", () => {
  it("answer 304 without a body to a matching If-None-Match, and 200 again once the answer changed", async () => {
    // Prepare
    const token = await newToken("etag");
    const first = await rt.request("GET", "/v1/crisis/resources", { token });
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);

    // Act
    const same = await rt.request("GET", "/v1/crisis/resources", { token, headers: { "if-none-match": etag! } });
    const otherRegion = await rt.request("GET", "/v1/crisis/resources?region=GB", { token, headers: { "if-none-match": etag! } });
    const stale = await rt.request("GET", "/v1/crisis/resources", { token, headers: { "if-none-match": '"not-the-tag"' } });

    // Assess
    expect(same.status).toBe(304);
    expect(same.text).toBe("");
    expect(same.headers.get("etag")).toBe(etag);
    expect(otherRegion.status).toBe(200);
    expect(otherRegion.headers.get("etag")).not.toBe(etag);
    expect(stale.status).toBe(200);
    expect(stale.json).toEqual(first.json);
  });
});

describe("operators update the directory through the admin route", () => {
  afterAll(async () => {
    expect((await ops("PUT", BUNDLED_DIRECTORY_DATA)).status).toBe(200);
  });

  it.each([
    { case: "no token", token: null },
    { case: "a wrong token", token: "not-the-ops-token-not-the-ops-token" },
    { case: "the ops token with one character changed", token: `${rt.secrets.adminToken.slice(0, -1)}${rt.secrets.adminToken.endsWith("0") ? "1" : "0"}` },
  ])("refuses $case with 401 and stores nothing", async ({ token }) => {
    // Prepare
    const before = await directoryItems();

    // Act
    const put = await ops("PUT", withMarker("refused"), token);
    const show = await ops("GET", undefined, token);

    // Assess
    expect(put.status).toBe(401);
    expect(show.status).toBe(401);
    expect(put.json).toMatchObject({ error: { code: "unauthorized", message: expect.any(String) } });
    expect(put.text).not.toContain("3114");
    expect(await directoryItems()).toEqual(before);
  });

  it("refuses a user's own JWT with 401", async () => {
    // Act
    const put = await ops("PUT", withMarker("jwt"), await newToken("not-an-operator"));

    // Assess
    expect(put.status).toBe(401);
  });

  it.each([
    { case: "not JSON", body: "{regions:" },
    { case: "an empty object", body: {} },
    { case: "no lines for US", body: { ...withMarker("no-us"), regions: { GB: BUNDLED_DIRECTORY_DATA.regions.GB } } },
    { case: "a line without its source", body: { ...withMarker("x"), fallback: [{ id: "f", name: "f", url: "https://findahelpline.com/", languages: ["en"], hours: "always", lastChecked: "2026-12-02" }] } },
    { case: "a lower-case region", body: { ...withMarker("x"), regions: { ...withMarker("x").regions, fr: [] } } },
  ])("answers 400 to $case, with the issues, and changes nothing", async ({ body }) => {
    // Prepare
    const before = await directoryItems();
    const shown = await ops("GET");

    // Act
    const response = await ops("PUT", body);

    // Assess
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { code: "validation_error", message: expect.any(String) } });
    expect(await directoryItems()).toEqual(before);
    expect((await ops("GET")).json).toEqual(shown.json);
  });

  it("stores a valid directory as the next version, audits it, and crisis resources serve it", async () => {
    // Prepare
    const before = (await ops("GET")).json as { version: number };

    // Act
    const stored = await ops("PUT", withMarker("stored"));

    // Assess
    expect(stored.status).toBe(200);
    expect(stored.json).toMatchObject({ version: before.version + 1, directory: { regions: { FR: [{ id: "fr-stored", call: "3114" }] } } });
    expect((await ops("GET")).json).toEqual(stored.json);
    const audited = (await auditEntries("crisis_directory.set")).filter((entry) => entry.version === stored.json.version);
    expect(audited).toEqual([expect.objectContaining({ actor: "operator", outcome: "ok", count: expect.any(Number) })]);
    expect(Object.keys(audited[0]!)).not.toContain("userKey");
    // Each crisis container reads the directory again within a few seconds of an update.
    const token = await newToken("after-update");
    const served = await eventually(async () => {
      const response = await rt.request("GET", "/v1/crisis/resources?region=FR", { token });
      return response.json.directoryVersion === stored.json.version ? response : undefined;
    });
    expect(served.json.lines).toEqual([expect.objectContaining({ id: "fr-stored", call: "3114" })]);
    expect(served.json.fallback).toEqual([expect.objectContaining({ url: "https://findahelpline.com/" })]);
  });

  it("reaches a device's next pull once, and a new device's bootstrap", async () => {
    // Prepare: a premium user (1 s pull interval) whose phone has bootstrapped.
    const user = await sync.user("directory-reach", ["phone"], "premium");
    const phone = user.devices.phone!;
    const pull = (deviceId: string, cursor?: string) => sync.pull(user.token, deviceId, { ...(cursor ? { cursor } : {}), withDirectory: true });
    const directoryIn = (response: { json: { changes: Array<{ entityType: string; version: number; snapshot?: true; payload: any }> } }) =>
      response.json.changes.filter((change) => change.entityType === "crisis_directory");
    const bootstrap = await pull(phone);
    expect(bootstrap.status).toBe(200);
    expect(directoryIn(bootstrap)).toEqual([expect.objectContaining({ entityId: "current", action: "upsert", snapshot: true, originDeviceId: null })]);
    let cursor = bootstrap.json.cursor as string;

    // Act
    const stored = await ops("PUT", withMarker("reach"));
    expect(stored.status).toBe(200);
    const delivered = await eventually(async () => {
      const response = await pull(phone, cursor);
      if (response.status !== 200) return undefined; // 429 within the 1 s interval
      cursor = response.json.cursor;
      return directoryIn(response).find((change) => change.version === stored.json.version) ? response : undefined;
    });
    const tablet = `tablet-${user.devices.phone}`;
    expect((await rt.request("POST", "/v1/devices", { token: user.token, body: { deviceId: tablet, platform: "android" } })).status).toBe(201);
    const fresh = await eventually(async () => {
      const response = await pull(tablet);
      return directoryIn(response)[0]?.version === stored.json.version ? response : undefined;
    });
    const again = await eventually(async () => {
      const response = await pull(phone, cursor);
      return response.status === 200 ? response : undefined;
    });

    // Assess
    const change = directoryIn(delivered)[0]!;
    expect(change).toMatchObject({ entityId: "current", action: "upsert", priority: 7, originDeviceId: null });
    expect(change.snapshot).toBeUndefined();
    expect(change.payload).toEqual(stored.json);
    expect(directoryIn(fresh)[0]).toMatchObject({ snapshot: true, payload: { version: stored.json.version, directory: { regions: { FR: [{ id: "fr-reach" }] } } } });
    expect(directoryIn(again)).toEqual([]);
  });

  it("gives two concurrent updates two versions, one after the other", async () => {
    // Prepare
    const before = (await ops("GET")).json as { version: number };

    // Act
    const [a, b] = await Promise.all([ops("PUT", withMarker("concurrent-a")), ops("PUT", withMarker("concurrent-b"))]);

    // Assess
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.json.version, b.json.version].sort()).toEqual([before.version + 1, before.version + 2]);
  });
});
