import { describe, expect, it } from "vitest";
import { describeStageSecrets } from "../../../stacks/stage-secrets.js";
import { functionRoleName, requireStageSecrets, type StoredSecret } from "../../../stacks/stage.js";

const PROD = { name: "paysync", stage: "prod" };
const REQUIRED = ["STRIPE_WEBHOOK_SECRET", "PSEUDONYM_SECRET"];
const underKey = (stage: string, secret: string, keyId = `alias/${stage}-paysync-secrets`): StoredSecret =>
  ({ name: `/sst/paysync/${stage}/Secret/${secret}/value`, keyId });

describe("a deploy requires the stage's own secrets", () => {
  it("goes ahead when every secret is the stage's own, under its secrets key", () => {
    expect(() => requireStageSecrets(PROD, REQUIRED, REQUIRED.map((secret) => underKey("prod", secret)))).not.toThrow();
  });

  it.each([
    ["none at all", [], /missing: STRIPE_WEBHOOK_SECRET, PSEUDONYM_SECRET/],
    ["one missing", [underKey("prod", "STRIPE_WEBHOOK_SECRET")], /missing: PSEUDONYM_SECRET/],
    ["only SST's shared fallback", REQUIRED.map((secret) => underKey(".fallback", secret, "alias/prod-paysync-secrets")), /missing: STRIPE_WEBHOOK_SECRET, PSEUDONYM_SECRET/],
    ["another stage's", REQUIRED.map((secret) => underKey("staging", secret, "alias/prod-paysync-secrets")), /missing/],
    ["one under aws/ssm (npx sst secrets set)", [underKey("prod", "STRIPE_WEBHOOK_SECRET"), underKey("prod", "PSEUDONYM_SECRET", "alias/aws/ssm")], /not under alias\/prod-paysync-secrets: PSEUDONYM_SECRET/],
    ["one under no key (a plain String)", [underKey("prod", "STRIPE_WEBHOOK_SECRET"), { name: "/sst/paysync/prod/Secret/PSEUDONYM_SECRET/value" }], /not under .*: PSEUDONYM_SECRET/],
  ])("is refused with %s", (_case, stored: StoredSecret[], message) => {
    expect(() => requireStageSecrets(PROD, REQUIRED, stored)).toThrow(message);
  });
});

describe("function role names", () => {
  it("are fixed by stage, app, region and function, so a key policy can name them", () => {
    expect(functionRoleName({ name: "paysync", stage: "prod", region: "eu-west-1" }, "SyncPull")).toBe("prod-paysync-eu-west-1-SyncPull");
  });

  it("refuse a stage name that would overflow IAM's 64 characters", () => {
    expect(() => functionRoleName({ name: "paysync", stage: "a-very-long-feature-branch-stage", region: "ap-southeast-2" }, "RealtimeDisconnect")).toThrow(/64/);
  });
});

describe("what a deploy asks SSM", () => {
  it("lists every page of the stage's secret parameters, names and keys only", async () => {
    // Prepare: an SSM stand-in answering two pages
    const requests: unknown[] = [];
    const pages = [
      { Parameters: [{ Name: "/sst/paysync/prod/Secret/PSEUDONYM_SECRET/value", KeyId: "alias/prod-paysync-secrets" }], NextToken: "more" },
      { Parameters: [{ Name: "/sst/paysync/prod/Secret/STRIPE_WEBHOOK_SECRET/value", KeyId: "alias/aws/ssm" }] },
    ];
    const client = { send: (command: { input: unknown }) => { requests.push(command.input); return Promise.resolve(pages[requests.length - 1]); } };

    // Act
    const found = await describeStageSecrets({ name: "paysync", stage: "prod", region: "eu-west-1" }, client as never);

    // Assess
    expect(found).toEqual([
      { name: "/sst/paysync/prod/Secret/PSEUDONYM_SECRET/value", keyId: "alias/prod-paysync-secrets" },
      { name: "/sst/paysync/prod/Secret/STRIPE_WEBHOOK_SECRET/value", keyId: "alias/aws/ssm" },
    ]);
    expect(requests).toEqual([
      { ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: ["/sst/paysync/prod/Secret"] }], NextToken: undefined },
      { ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: ["/sst/paysync/prod/Secret"] }], NextToken: "more" },
    ]);
  });
});
