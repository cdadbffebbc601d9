import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "@paysync/core/api/openapi";
import { ROUTES } from "@paysync/aws/resources";
import { documentValidator } from "../helpers/openapi-validator.js";
import { useRuntime } from "../helpers/runtime.js";

const rt = useRuntime();
const document = buildOpenApiDocument();

const validate = documentValidator(document);

/** Why a live response body does not match the document's schema for that route and status (`undefined`: it does). */
function mismatchOf(route: string, status: number, body: unknown): string | undefined {
  const [method = "", path = ""] = route.split(" ");
  const response = (document.paths[path]?.[method.toLowerCase()]?.responses as Record<string, any>)?.[String(status)];
  const schema = response?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`no schema for ${route} ${status}`);
  return validate(schema.$ref, body);
}

describe("the OpenAPI document", () => {
  it.each(ROUTES.map((r) => [r.route, r.auth] as const))("documents %s with its authorization", (route, auth) => {
    // Prepare
    const [method = "", path = ""] = route.split(" ");

    // Act
    const operation = document.paths[path]?.[method.toLowerCase()];

    // Assess
    expect(operation).toBeDefined();
    expect(operation?.security).toEqual(auth ? [{ bearer: [] }] : []);
  });

  it.each(ROUTES.map((r) => [r.route, r.auth] as const))("%s documents the gateway's refusals and the faults with ErrorBody", (route, auth) => {
    // Prepare
    const [method = "", path = ""] = route.split(" ");

    // Act
    const responses = document.paths[path]?.[method.toLowerCase()]?.responses as Record<string, any>;

    // Assess
    for (const status of [...(auth ? [401] : []), 404, 405, 413, 429, 500, 503, 504]) {
      expect(responses[String(status)]?.content?.["application/json"]?.schema, `${route} ${status}`).toEqual({ $ref: "#/components/schemas/ErrorBody" });
    }
  });

  it("states its license", () => {
    // Assess
    expect((document.info as { license?: { name?: string } }).license?.name).toBeTruthy();
  });

  it("is served at /openapi.json and committed to docs/ as generated", async () => {
    // Act
    const served = await rt.request("GET", "/openapi.json");
    const committed = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../docs/openapi.json"), "utf8"));

    // Assess
    expect(served.status).toBe(200);
    // The served copy names the port it is served from; the committed one the default address.
    expect(served.json).toEqual(buildOpenApiDocument(rt.baseUrl));
    expect(served.json.servers[0]).toEqual(expect.objectContaining({ url: rt.baseUrl }));
    expect(committed, "docs/openapi.json is stale: run npm run openapi").toEqual(document);
  });

  it("describes live responses of the device routes", async () => {
    // Prepare
    const token = await rt.token(`openapi-${Date.now()}`);
    const deviceId = `openapi-dev-${Date.now()}`;

    // Act
    const checks: [string, number, unknown][] = [];
    const health = await rt.request("GET", "/health");
    checks.push(["GET /health", health.status, health.json]);
    const registered = await rt.request("POST", "/v1/devices", { token, body: { deviceId, platform: "web", appVersion: "1.2.3" } });
    checks.push(["POST /v1/devices", registered.status, registered.json]);
    const listed = await rt.request("GET", "/v1/devices", { token });
    checks.push(["GET /v1/devices", listed.status, listed.json]);
    const invalid = await rt.request("POST", "/v1/devices", { token, body: { deviceId: "bad id!", platform: "ios" } });
    checks.push(["POST /v1/devices", invalid.status, invalid.json]);

    // Assess
    expect(checks.map(([, status]) => status)).toEqual([200, 201, 200, 400]);
    for (const [route, status, body] of checks) expect(mismatchOf(route, status, body), `${route} ${status}`).toBeUndefined();
  });
  it("describes live responses of the sync, crisis and account routes", async () => {
    // Prepare: a user with two devices (device ids never derived from the user id)
    const token = await rt.token(`openapi-sync-${Date.now()}`);
    const [phone, tablet] = [`oa-phone-${Date.now().toString(36)}`, `oa-tablet-${Date.now().toString(36)}`];
    for (const deviceId of [phone, tablet]) {
      expect((await rt.request("POST", "/v1/devices", { token, body: { deviceId, platform: "ios" } })).status).toBe(201);
    }
    const op = { opId: `oa-op-${Date.now()}`, entityType: "check_in", entityId: "oa-e1", action: "upsert", baseVersion: 0, payload: { note: "ok" }, clientTime: new Date().toISOString() };
    const onPhone = { token, headers: { "x-device-id": phone } };

    // Act
    const calls: [string, { status: number; json: unknown }][] = [
      ["GET /v1/me/entitlements", await rt.request("GET", "/v1/me/entitlements", { token })],
      ["POST /v1/sync/push", await rt.request("POST", "/v1/sync/push", { ...onPhone, body: { ops: [op] } })],
      ["POST /v1/sync/push", await rt.request("POST", "/v1/sync/push", { ...onPhone, body: { ops: [{ ...op, clientTime: "yesterday" }] } })],
      ["GET /v1/sync/pull", await rt.request("GET", "/v1/sync/pull?limit=10", { token, headers: { "x-device-id": tablet } })],
      ["GET /v1/sync/conflicts", await rt.request("GET", "/v1/sync/conflicts", { token })],
      ["POST /v1/sessions/{sessionId}/handoff", await rt.request("POST", "/v1/sessions/oa-session/handoff", { token, body: { fromDeviceId: phone, toDeviceId: tablet, snapshot: { step: 2 } } })],
      ["PUT /v1/crisis/safety-plan", await rt.request("PUT", "/v1/crisis/safety-plan", { ...onPhone, body: { warningSigns: ["not sleeping"] } })],
      ["PUT /v1/crisis/contacts", await rt.request("PUT", "/v1/crisis/contacts", { ...onPhone, body: { contacts: [] } })],
      ["POST /v1/crisis/activate", await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: phone, level: "high", source: "button" } })],
      ["GET /v1/crisis/resources", await rt.request("GET", "/v1/crisis/resources", { token })],
      ["POST /v1/crisis/resolve", await rt.request("POST", "/v1/crisis/resolve", { token, body: { deviceId: phone } })],
      ["POST /v1/crisis/activate", await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: phone, level: "panic", source: "button" } })],
      ["DELETE /v1/devices/{deviceId}", await rt.request("DELETE", "/v1/devices/not-mine-or-anyones", { token })],
    ];

    // Assess
    expect(calls.map(([, r]) => r.status)).toEqual([200, 200, 400, 200, 200, 200, 200, 200, 200, 200, 200, 400, 404]);
    for (const [route, { status, json }] of calls) expect(mismatchOf(route, status, json), `${route} ${status}`).toBeUndefined();
  });
});
