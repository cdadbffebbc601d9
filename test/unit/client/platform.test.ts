import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressionStreamGzip, cryptoRandomId, resolvePlatform } from "@paysync/client/platform";
import { defaultRealtimeUrl } from "@paysync/client/realtime";
import { parseRetryAfter } from "@paysync/client/errors";

describe("platform defaults", () => {
  it("opIds are 22 base64url characters from crypto randomness, and do not repeat", () => {
    // Act
    const ids = Array.from({ length: 2_000 }, () => cryptoRandomId((b) => crypto.getRandomValues(b)));

    // Assess
    expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("gzips with the platform's CompressionStream", async () => {
    // Prepare
    const gzip = compressionStreamGzip();
    const body = new TextEncoder().encode(JSON.stringify({ ops: Array.from({ length: 100 }, (_, i) => ({ i, note: "breathe" })) }));

    // Act
    const compressed = await gzip!(body);

    // Assess
    expect(compressed.byteLength).toBeLessThan(body.byteLength);
    expect(new Uint8Array(gunzipSync(compressed))).toEqual(body);
  });

  it("takes fetch, WebSocket, crypto and CompressionStream from the globals, and realtime can be turned off", () => {
    // Act
    const platform = resolvePlatform({});
    const polling = resolvePlatform({ WebSocket: false, compress: false });

    // Assess
    expect(typeof platform.fetch).toBe("function");
    expect(platform.webSocket).not.toBeNull();
    expect(platform.subtle).not.toBeNull();
    expect(platform.compress).not.toBeNull();
    expect(polling.webSocket).toBeNull();
    expect(polling.compress).toBeNull();
  });

  it.each([
    { name: "http becomes ws", base: "http://127.0.0.1:3000", url: "ws://127.0.0.1:3000/v1/realtime" },
    { name: "https becomes wss, a trailing slash is dropped", base: "https://api.example.com/", url: "wss://api.example.com/v1/realtime" },
  ])("the realtime URL: $name", ({ base, url }) => {
    // Act
    const actual = defaultRealtimeUrl(base);

    // Assess
    expect(actual).toBe(url);
  });

  it.each([
    { name: "seconds", header: "30", expected: 30_000 },
    { name: "an HTTP date", header: new Date(Date.UTC(2025, 0, 1, 0, 1, 0)).toUTCString(), expected: 60_000 },
    { name: "nothing", header: null, expected: null },
    { name: "garbage", header: "soon", expected: null },
  ])("Retry-After as $name", ({ header, expected }) => {
    // Act
    const ms = parseRetryAfter(header, Date.UTC(2025, 0, 1));

    // Assess
    expect(ms).toBe(expected);
  });
});
