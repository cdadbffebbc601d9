/** The realtime WebSocket API: its routes, its authorizer and who may post to its connections. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYNTH_ENV, cleanUpArtifacts, findFunction, logicalIdOf, synthesize, type SynthesizedApp } from "./synth.js";

let synth: SynthesizedApp;
beforeAll(async () => {
  synth = await synthesize();
});
afterAll(cleanUpArtifacts);

type Resource = { Properties: Record<string, unknown> };

function resources(type: string, props?: Record<string, unknown>): [string, Record<string, unknown>][] {
  const found = synth.templates.realtime.findResources(type, props ? { Properties: props } : undefined) as Record<string, Resource>;
  return Object.entries(found).map(([id, r]) => [id, r.Properties]);
}

/** The function a route's integration invokes, by logical id. */
function integrationFunction(routeKey: string): string | undefined {
  const [[, route] = []] = resources("AWS::ApiGatewayV2::Route", { RouteKey: routeKey });
  const target = JSON.stringify((route as { Target: unknown }).Target);
  const integrationId = /"Ref":"([^"]+)"/.exec(target)?.[1] ?? "";
  const integration = synth.templates.realtime.toJSON().Resources[integrationId] as Resource;
  return /"([A-Za-z0-9]+)","Arn"/.exec(JSON.stringify(integration.Properties.IntegrationUri))?.[1];
}

describe("realtime WebSocket API", () => {
  it("is one WebSocket API with exactly $connect and $disconnect", () => {
    // Act
    const apis = resources("AWS::ApiGatewayV2::Api");
    const routes = resources("AWS::ApiGatewayV2::Route").map(([, r]) => r.RouteKey);

    // Assess
    expect(apis.map(([, api]) => api.ProtocolType)).toEqual(["WEBSOCKET"]);
    expect(routes.sort()).toEqual(["$connect", "$disconnect"]);
  });

  it.each([
    ["$connect", "RealtimeConnect"],
    ["$disconnect", "RealtimeDisconnect"],
  ])("%s goes to %s", (routeKey, fn) => {
    // Prepare
    const function_ = findFunction(synth.app, fn);

    // Assess
    expect(integrationFunction(routeKey)).toBe(logicalIdOf(function_, function_.stack));
  });

  it("guards $connect with a Lambda (REQUEST) authorizer reading the token from the query string", () => {
    // Prepare
    const authorizerFn = findFunction(synth.app, "RealtimeAuthorizer");

    // Act
    const [[authorizerId, authorizer] = []] = resources("AWS::ApiGatewayV2::Authorizer");
    const [[, connect] = []] = resources("AWS::ApiGatewayV2::Route", { RouteKey: "$connect" });
    const [[, disconnect] = []] = resources("AWS::ApiGatewayV2::Route", { RouteKey: "$disconnect" });

    // Assess
    expect(authorizer).toMatchObject({ AuthorizerType: "REQUEST", IdentitySource: ["route.request.querystring.token"] });
    expect(JSON.stringify(authorizer!.AuthorizerUri)).toContain(logicalIdOf(authorizerFn, authorizerFn.stack));
    expect(connect).toMatchObject({ AuthorizationType: "CUSTOM", AuthorizerId: { Ref: authorizerId } });
    expect(disconnect).not.toHaveProperty("AuthorizerId");
  });

  it("verifies tokens against the same issuer and audiences as the HTTP API", () => {
    // Prepare
    const fn = findFunction(synth.app, "RealtimeAuthorizer");

    // Act
    const props = synth.templates.realtime.toJSON().Resources[logicalIdOf(fn, fn.stack)] as { Properties: { Environment: { Variables: Record<string, unknown> } } };

    // Assess
    expect(props.Properties.Environment.Variables).toMatchObject({
      PAYSYNC_JWT_ISSUER: SYNTH_ENV.PAYSYNC_JWT_ISSUER,
      PAYSYNC_JWT_AUDIENCE: SYNTH_ENV.PAYSYNC_JWT_AUDIENCE,
    });
    expect(props.Properties.Environment.Variables).not.toHaveProperty("LOCAL_JWT_SECRET");
  });

  it("writes access logs without caller IP or the query string (it carries the token)", () => {
    // Act
    const [[, stage] = []] = resources("AWS::ApiGatewayV2::Stage");
    const format = (stage as { AccessLogSettings: { Format: string } }).AccessLogSettings.Format;

    // Assess
    expect(Object.keys(JSON.parse(format) as object)).toContain("routeKey");
    expect(format).not.toMatch(/sourceIp|userAgent|querystring|identity/i);
  });
});
