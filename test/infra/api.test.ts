/** The HTTP API, the crisis capacity and how every function is built (synthesized once). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ROUTES } from "@paysync/core/api/routes";
import { SYNTH_ENV, cleanUpArtifacts, findFunction, logicalIdOf, synthesize, type SynthesizedApp } from "./synth.js";

let synth: SynthesizedApp;
beforeAll(async () => {
  synth = await synthesize();
});
afterAll(cleanUpArtifacts);

/** The route manifest, as the template must carry it: route key, function, authorization. */
const ROUTES: [route: string, fn: string, auth: "JWT" | "NONE"][] = API_ROUTES.map((r) => [r.route, r.function, r.auth ? "JWT" : "NONE"]);

type Resource = { Properties: Record<string, unknown> };

function resources(type: string, props?: Record<string, unknown>): [string, Record<string, unknown>][] {
  const found = synth.templates.api.findResources(type, props ? { Properties: props } : undefined) as Record<string, Resource>;
  return Object.entries(found).map(([id, r]) => [id, r.Properties]);
}

function crisisAliasId(): string {
  const aliases = resources("AWS::Lambda::Alias", { Name: "live" });
  expect(aliases).toHaveLength(1);
  return aliases[0]![0];
}

/** The integration a route points at: a function or an alias, by logical id. */
function integrationTarget(route: string): unknown {
  const [[, routeProps] = []] = resources("AWS::ApiGatewayV2::Route", { RouteKey: route });
  const target = (routeProps as { Target: { "Fn::Join": [string, [string, { Ref: string }]] } }).Target;
  const integrationId = target["Fn::Join"][1][1].Ref;
  const integration = synth.templates.api.toJSON().Resources[integrationId] as Resource;
  return integration.Properties.IntegrationUri;
}

describe("HTTP API", () => {
  it("has exactly the routes of the manifest", () => {
    // Act
    const keys = resources("AWS::ApiGatewayV2::Route").map(([, r]) => r.RouteKey);

    // Assess
    expect(keys.sort()).toEqual(ROUTES.map(([route]) => route).sort());
  });

  it("guards routes with a JWT authorizer checking the configured issuer and audiences", () => {
    synth.templates.api.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 1);
    synth.templates.api.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      IdentitySource: ["$request.header.Authorization"],
      JwtConfiguration: {
        Issuer: SYNTH_ENV.PAYSYNC_JWT_ISSUER,
        Audience: ["paysync-ios", "paysync-web"],
      },
    });
  });

  it.each(ROUTES)("%s goes to %s with authorization %s", (route, fn, auth) => {
    // Prepare
    const [authorizerId] = resources("AWS::ApiGatewayV2::Authorizer")[0]!;
    const function_ = findFunction(synth.app, fn);
    const expectedTarget = fn === "Crisis"
      ? { Ref: crisisAliasId() }
      : { "Fn::GetAtt": [logicalIdOf(function_, function_.stack), "Arn"] };

    // Act
    const [[, props] = []] = resources("AWS::ApiGatewayV2::Route", { RouteKey: route });

    // Assess
    expect(props).toMatchObject({ AuthorizationType: auth });
    if (auth === "JWT") expect(props!.AuthorizerId).toEqual({ Ref: authorizerId });
    else expect(props).not.toHaveProperty("AuthorizerId");
    expect(integrationTarget(route)).toEqual(expectedTarget);
  });

  it("keeps five warm crisis instances on the live alias and reserves 50 executions for crisis alone", () => {
    // Prepare
    const crisis = findFunction(synth.app, "Crisis");
    const crisisId = logicalIdOf(crisis, crisis.stack);

    // Act
    const [[, alias] = []] = resources("AWS::Lambda::Alias", { Name: "live" });
    const [[, fn] = []] = resources("AWS::Lambda::Function", { Handler: "functions/crisis.handler" });

    // Assess
    expect(alias).toMatchObject({
      FunctionName: { Ref: crisisId },
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 5 },
    });
    expect(fn).toMatchObject({ ReservedConcurrentExecutions: 50 });
  });

  it("reserves concurrency, among the API's functions, for the crisis function only", () => {
    // Act
    const reserved = resources("AWS::Lambda::Function")
      .filter(([, props]) => props.ReservedConcurrentExecutions !== undefined)
      .map(([, props]) => props.Handler);

    // Assess
    expect(reserved).toEqual(["functions/crisis.handler"]);
  });

  it("lets API Gateway invoke the crisis alias, not the unpublished function, for crisis routes", () => {
    // Act
    const permissions = resources("AWS::Lambda::Permission", { FunctionName: { Ref: crisisAliasId() } });

    // Assess
    expect(permissions).toHaveLength(ROUTES.filter(([, fn]) => fn === "Crisis").length);
  });

  it("writes access logs without caller IP, user agent or raw path", () => {
    // Act
    const [[, stage] = []] = resources("AWS::ApiGatewayV2::Stage");
    const format = (stage as { AccessLogSettings: { Format: string } }).AccessLogSettings.Format;

    // Assess
    expect(Object.keys(JSON.parse(format) as object)).toContain("routeKey");
    expect(format).not.toMatch(/sourceIp|userAgent|\$context\.path|authorizer\.claims/);
  });
});

type LambdaProps = {
  Runtime: string;
  Handler: string;
  Architectures?: string[];
  Environment?: { Variables: Record<string, unknown> };
};

function lambdas(): { stack: string; id: string; props: LambdaProps }[] {
  return [...synth.byStackName].flatMap(([stack, template]) =>
    Object.entries(template.findResources("AWS::Lambda::Function") as Record<string, { Properties: LambdaProps }>)
      .map(([id, r]) => ({ stack, id, props: r.Properties })));
}

/** Our handlers (SST's own custom-resource handler lives in support/, not functions/). */
function handlers() {
  return lambdas().filter((l) => l.props.Handler.startsWith("functions/"));
}

describe("functions", () => {
  it("bundles one Lambda per function of the app (23)", () => {
    expect(handlers()).toHaveLength(23);
  });

  it("runs every Lambda in every stack on nodejs22.x", () => {
    // Act
    const runtimes = new Set(lambdas().map((l) => l.props.Runtime));

    // Assess
    expect([...runtimes]).toEqual(["nodejs22.x"]);
  });

  it("runs our handlers on arm64", () => {
    for (const l of handlers()) expect(l.props.Architectures, l.props.Handler).toEqual(["arm64"]);
  });

  it("configures Powertools and source maps the same way on every handler, and never logs events", () => {
    for (const l of handlers()) {
      expect(l.props.Environment?.Variables, l.props.Handler).toMatchObject({
        POWERTOOLS_SERVICE_NAME: "paysync",
        POWERTOOLS_METRICS_NAMESPACE: "paysync",
        POWERTOOLS_LOGGER_LOG_EVENT: "false",
        NODE_OPTIONS: "--enable-source-maps",
        SST_APP: "paysync",
        SST_STAGE: "ci",
      });
    }
  });
});
