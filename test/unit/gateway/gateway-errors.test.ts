import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBodySchema } from "@paysync/core/api";
import type { FunctionHost } from "@paysync/local/function-host";
import { MAX_HEADER_BYTES, startGateway } from "@paysync/local/gateway";
import { signDevToken } from "@paysync/local/jwt";

const SECRET = "unit-test-secret-0123456789";

/** A host whose functions answer 200, never answer, or crash, by the path asked for. */
const host: FunctionHost = {
  invoke: (_functionId, event) => {
    const path = (event as { rawPath: string }).rawPath;
    if (path === "/v1/sync/pull") return new Promise(() => undefined);
    if (path === "/v1/devices") return Promise.reject(new Error("the function crashed with a secret cause"));
    return Promise.resolve({ statusCode: 200, headers: { "content-type": "application/json" }, body: "{}" });
  },
  warm: async () => undefined,
  stop: async () => undefined,
};

let gateway: Awaited<ReturnType<typeof startGateway>>;
let token: string;

beforeAll(async () => {
  gateway = await startGateway({ port: 0, host, jwtSecret: SECRET, invocationTimeoutMs: () => 200 });
  token = await signDevToken(SECRET, "user-gateway");
});
afterAll(() => gateway.stop());

/** A raw HTTP request (fetch would normalise the odd targets these cases need). */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((done, fail) => {
    const req = httpRequest({ host: "127.0.0.1", port: gateway.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", fail);
    req.end(body);
  });
}

const auth = () => ({ authorization: `Bearer ${token}` });

describe("gateway-level answers have the error shape", () => {
  it.each([
    { case: "an unknown route", method: "GET", path: "/v1/nowhere", headers: () => ({}), status: 404, code: "not_found" },
    { case: "a path outside the API", method: "GET", path: "/", headers: () => ({}), status: 404, code: "not_found" },
    { case: "no token", method: "GET", path: "/v1/devices", headers: () => ({}), status: 401, code: "unauthorized" },
    { case: "a bad token", method: "GET", path: "/v1/devices", headers: () => ({ authorization: "Bearer nope" }), status: 401, code: "unauthorized" },
    { case: "PATCH on /health", method: "PATCH", path: "/health", headers: () => ({}), status: 405, code: "method_not_allowed" },
    { case: "DELETE on the device list", method: "DELETE", path: "/v1/devices", headers: auth, status: 405, code: "method_not_allowed" },
    { case: "malformed percent-encoding in a path parameter", method: "DELETE", path: "/v1/devices/%E0%A4%A", headers: auth, status: 400, code: "validation_error" },
    { case: "malformed percent-encoding in the query", method: "GET", path: "/v1/me/entitlements?x=%E0%A4%A", headers: auth, status: 400, code: "validation_error" },
    { case: "a lone % in the query", method: "GET", path: "/v1/me/entitlements?x=%", headers: auth, status: 400, code: "validation_error" },
    { case: "a function that never answers", method: "GET", path: "/v1/sync/pull", headers: auth, status: 504, code: "timeout" },
    { case: "a function that crashes", method: "GET", path: "/v1/devices", headers: auth, status: 500, code: "internal_error" },
    { case: "headers beyond the limit", method: "GET", path: "/health", headers: () => ({ "x-filler": "a".repeat(MAX_HEADER_BYTES + 1) }), status: 431, code: "headers_too_large" },
  ])("$case: $status $code", async ({ method, path, headers, status, code }) => {
    // Act
    const response = await send(method, path, headers());

    // Assess
    expect(response.status).toBe(status);
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    const body: unknown = JSON.parse(response.text);
    expect(ErrorBodySchema.safeParse(body).success).toBe(true);
    expect(body).toMatchObject({ error: { code } });
    expect(response.text).not.toContain("secret cause");
  });

  it("a body beyond Lambda's 6 MB payload limit is a 413 in the error shape", async () => {
    // Act
    const response = await send("POST", "/v1/devices", { ...auth(), "content-type": "application/json" }, Buffer.alloc(6 * 1024 * 1024 + 1, 0x20));

    // Assess
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text)).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it.each([
    { path: "/health", allow: "GET" },
    { path: "/v1/devices", allow: "GET, POST" },
  ])("405 on $path names the methods it takes: $allow", async ({ path, allow }) => {
    // Act
    const response = await send("PATCH", path, auth());

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe(allow);
  });

  it("a 401 still asks for a bearer token", async () => {
    // Act
    const response = await send("GET", "/v1/devices");

    // Assess
    expect(response.headers["www-authenticate"]).toBe("Bearer");
  });

  it("a repeated query parameter reaches the function joined with a comma, as API Gateway sends it", async () => {
    // Prepare
    const seen: unknown[] = [];
    const recording = await startGateway({
      port: 0, jwtSecret: SECRET,
      host: { invoke: async (_f, event) => { seen.push((event as { queryStringParameters?: unknown }).queryStringParameters); return { statusCode: 200, body: "{}" }; }, warm: async () => undefined, stop: async () => undefined },
    });

    // Act
    await fetch(`http://127.0.0.1:${recording.port}/v1/me/entitlements?limit=5&limit=6&__proto__=x`, { headers: auth() });
    await recording.stop();

    // Assess
    expect(seen).toEqual([{ limit: "5,6", ["__proto__"]: "x" }]);
  });
});
