/**
 * The payload key's own policy (issue 21 point 1), read from the synthesized template and
 * evaluated like KMS does: a key policy statement whose principal is the account delegates to
 * IAM, so any role of the account holding `kms:*` on `*` (a CI or power-user role) gets what
 * such a statement allows. What each function may do is written out by hand, not read from
 * FUNCTIONS, so a drift shows up here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Stack } from "aws-cdk-lib";
import { Function } from "sst/constructs";
import { asList, cleanUpArtifacts, logicalIdOf, statementsOf, synthesize, type Statement, type SynthesizedApp } from "./synth.js";

const ACCOUNT = "123456789012";
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
/** What packages/aws/src/crypto/envelope.ts sends KMS with every branch-key GenerateDataKey and Decrypt. */
const BRANCH_KEY_CONTEXT = { purpose: "paysync-branch-key" };

/** Functions that open payloads (kms:Decrypt of a branch key) and that write them (kms:GenerateDataKey). */
const READERS = ["Conflicts", "Crisis", "SyncPull", "SyncPush", "SyncWorker"];
const WRITERS = ["Conflicts", "Crisis", "GraceExpiry", "Handoff", "SyncPush", "SyncWorker", "WebhookWorker"];
/** The health check asks KMS whether the key is there, and nothing else. */
const DESCRIBERS = ["Health"];

/** Every KMS action that uses key material or hands that use to someone else (a grant). */
const USE_ACTIONS = [
  "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
  "kms:GenerateMac", "kms:VerifyMac", "kms:Sign", "kms:Verify", "kms:DeriveSharedSecret", "kms:CreateGrant",
];
/** What administrators must keep: without these the key could not be managed or retired. */
const MANAGE_ACTIONS = [
  "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation",
  "kms:DisableKey", "kms:EnableKey", "kms:UpdateKeyDescription", "kms:ListResourceTags", "kms:TagResource",
  "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:ListGrants", "kms:RevokeGrant",
];

interface KeyPolicyStatement extends Statement {
  Sid?: string;
  Principal?: "*" | { AWS?: unknown; Service?: unknown };
}

interface Request {
  principalArn: string;
  action: string;
  context?: Record<string, string>;
  /** The service calling KMS on the principal's behalf; none for a direct call. */
  viaService?: string;
}

let synth: SynthesizedApp;
let policy: KeyPolicyStatement[];
let payloadKeyId: string;

function keyPolicyOf(logicalId: string): KeyPolicyStatement[] {
  const key = synth.templates.storage.toJSON().Resources[logicalId] as { Properties: { KeyPolicy: { Statement: KeyPolicyStatement[] } } };
  return key.Properties.KeyPolicy.Statement;
}

beforeAll(async () => {
  synth = await synthesize();
  payloadKeyId = payloadKeyLogicalId();
  policy = keyPolicyOf(payloadKeyId);
});
afterAll(cleanUpArtifacts);

/** The key the payload cipher is told to use: the one KMS_KEY_ARN names. */
function payloadKeyLogicalId(): string {
  const parameters = synth.templates.storage.findResources("AWS::SSM::Parameter", {
    Properties: { Name: "/sst/paysync/ci/Parameter/KMS_KEY_ARN/value" },
  }) as Record<string, { Properties: { Value: { "Fn::GetAtt"?: [string, string] } } }>;
  const [parameter] = Object.values(parameters);
  const keyId = parameter?.Properties.Value["Fn::GetAtt"]?.[0];
  if (keyId === undefined) throw new Error("KMS_KEY_ARN does not name a key of the Storage stack");
  return keyId;
}

/** A template value with the pseudo parameters filled in (what CloudFormation would deploy). */
function resolve(value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  if (v.Ref === "AWS::AccountId") return ACCOUNT;
  if (v.Ref === "AWS::Partition") return "aws";
  if (v.Ref === "AWS::Region") return "us-east-1";
  if (Array.isArray(v["Fn::Join"])) {
    const [separator, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts.map(resolve).join(separator);
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)} before deployment`);
}

function glob(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return regex.test(value);
}

function principalMatches(statement: KeyPolicyStatement, principalArn: string): boolean {
  if (statement.Principal === "*") return true;
  const aws = asList(statement.Principal?.AWS as unknown[] | undefined).map(resolve);
  // The account (its root) in a key policy delegates to IAM: every principal of the account.
  return aws.includes("*") || aws.includes(ROOT) || aws.includes(`${ACCOUNT}`) || aws.includes(principalArn);
}

/** The request's value of a condition key; undefined when the request has none. */
function requestValue(key: string, request: Request): string | string[] | undefined {
  if (key === "aws:PrincipalArn") return request.principalArn;
  if (key === "kms:CallerAccount") return ACCOUNT;
  if (key === "kms:ViaService") return request.viaService;
  if (key === "kms:EncryptionContextKeys") return Object.keys(request.context ?? {});
  if (key.startsWith("kms:EncryptionContext:")) return request.context?.[key.slice("kms:EncryptionContext:".length)];
  throw new Error(`the test does not know the condition key ${key}: teach it`);
}

function conditionHolds(operator: string, key: string, expected: unknown, request: Request): boolean {
  const wanted = asList(expected as unknown[]).map(resolve);
  const actual = requestValue(key, request);
  const [qualifier, base] = operator.includes(":") ? operator.split(":") as [string, string] : [undefined, operator];
  const compare = (value: string) => wanted.some((w) => (/Like$/.test(base) ? glob(w, value) : w === value));
  if (!/^(String|Arn)(Equals|Like)$/.test(base)) throw new Error(`the test does not know the operator ${operator}: teach it`);
  if (qualifier === "ForAllValues") return asList(actual as string[] | undefined).every(compare);
  if (qualifier === "ForAnyValue") return asList(actual as string[] | undefined).some(compare);
  if (actual === undefined) return false;
  return asList(actual).every(compare);
}

function statementApplies(statement: KeyPolicyStatement, request: Request): boolean {
  const actionMatches = asList(statement.Action).some((pattern) => glob(pattern, request.action));
  if (!actionMatches || !principalMatches(statement, request.principalArn)) return false;
  return Object.entries(statement.Condition ?? {}).every(([operator, entries]) =>
    Object.entries(entries).every(([key, expected]) => conditionHolds(operator, key, expected, request)));
}

/** Whether a key policy (the payload key's by default) lets the request through, given an IAM policy that allows everything. */
function allows(request: Request, statements: KeyPolicyStatement[] = policy): boolean {
  if (statements.some((s) => s.Effect === "Deny" && statementApplies(s, request))) return false;
  return statements.some((s) => s.Effect === "Allow" && statementApplies(s, request));
}

function functionsOfApp(): Function[] {
  return synth.app.node.findAll().filter((c): c is Function => c instanceof Function);
}

/** The deployed ARN of a function's execution role, from the name its template gives it. */
function roleArnOf(fn: Function): string {
  const stack = Stack.of(fn);
  const template = synth.byStackName.get(stack.stackName)!.toJSON() as { Resources: Record<string, { Properties: { RoleName?: unknown } }> };
  const roleName = template.Resources[logicalIdOf(fn.role!, stack)]?.Properties.RoleName;
  if (roleName === undefined) throw new Error(`${fn.id}'s role has no fixed name: a key policy cannot name it`);
  return `arn:aws:iam::${ACCOUNT}:role/${resolve(roleName)}`;
}

function expectedUse(id: string): string[] {
  return [
    ...(READERS.includes(id) ? ["kms:Decrypt"] : []),
    ...(WRITERS.includes(id) ? ["kms:GenerateDataKey"] : []),
    ...(DESCRIBERS.includes(id) ? ["kms:DescribeKey"] : []),
  ].sort();
}

describe("the payload key's policy", () => {
  it("payload envelopes have their own key, not the key of the tables and lanes", () => {
    // Prepare
    const tables = Object.values(synth.templates.storage.findResources("AWS::DynamoDB::Table")) as { Properties: { SSESpecification: { KMSMasterKeyId: unknown } } }[];
    const tableKeys = tables.map((t) => JSON.stringify(t.Properties.SSESpecification.KMSMasterKeyId));
    const queues = Object.values(synth.templates.queues.findResources("AWS::SQS::Queue")) as { Properties: { KmsMasterKeyId: unknown } }[];

    // Assess
    expect(tableKeys.length).toBeGreaterThan(0);
    for (const key of tableKeys) expect(key).not.toContain(`"${payloadKeyId}"`);
    for (const queue of queues) expect(synth.refersTo(synth.stacks.queues.stackName, queue.Properties.KmsMasterKeyId)).toBe("key");
    expect(synth.refersTo(synth.stacks.storage.stackName, { Ref: payloadKeyId })).toBe("key:payload");
  });

  it.each([
    ["the account root", ROOT],
    ["a role of the account outside the stack (CI, a power user)", `arn:aws:iam::${ACCOUNT}:role/ci-power-user`],
    ["a role named like a function of another stage", `arn:aws:iam::${ACCOUNT}:role/prod-paysync-us-east-1-SyncPull`],
  ])("%s cannot use the key, even with the right encryption context", (_who, principalArn) => {
    // Act
    const usable = USE_ACTIONS.filter((action) => allows({ principalArn, action, context: BRANCH_KEY_CONTEXT }));

    // Assess
    expect(usable).toEqual([]);
  });

  it("administrators (the account, through IAM) can still manage the key", () => {
    // Act
    const refused = MANAGE_ACTIONS.filter((action) => !allows({ principalArn: ROOT, action }));

    // Assess
    expect(refused).toEqual([]);
  });

  it("no statement that names the account or everyone allows a use of the key", () => {
    // Act
    const offending = policy.filter((s) => s.Effect === "Allow" &&
      (s.Principal === "*" || asList(s.Principal?.AWS as unknown[] | undefined).map(resolve).some((p) => p === ROOT || p === "*")) &&
      s.Condition?.ArnEquals?.["aws:PrincipalArn"] === undefined &&
      USE_ACTIONS.some((action) => asList(s.Action).some((pattern) => glob(pattern, action))));

    // Assess
    expect(offending.map((s) => s.Sid ?? asList(s.Action).join(","))).toEqual([]);
  });

  it("every function of the app may use the key for exactly what it needs", () => {
    // Act
    const granted = Object.fromEntries(functionsOfApp().map((fn) => {
      const principalArn = roleArnOf(fn);
      return [fn.id, USE_ACTIONS.filter((action) => allows({ principalArn, action, context: BRANCH_KEY_CONTEXT })).sort()];
    }));

    // Assess (DescribeKey is administration: the account's, through IAM, so not checked here)
    expect(granted).toEqual(Object.fromEntries(functionsOfApp().map((fn) => [fn.id, expectedUse(fn.id).filter((a) => a !== "kms:DescribeKey")])));
  });

  it.each([
    ["no context", undefined],
    ["another purpose", { purpose: "something-else" }],
    ["an extra context key", { ...BRANCH_KEY_CONTEXT, userKey: "u_0123456789abcdef0123456789abcdef" }],
  ])("a function role cannot use the key with %s", (_case, context) => {
    // Prepare
    const reader = roleArnOf(functionsOfApp().find((fn) => fn.id === "SyncPull")!);
    const writer = roleArnOf(functionsOfApp().find((fn) => fn.id === "Handoff")!);

    // Assess
    expect(allows({ principalArn: reader, action: "kms:Decrypt", context })).toBe(false);
    expect(allows({ principalArn: writer, action: "kms:GenerateDataKey", context })).toBe(false);
  });

  it("names the function roles by ARN in a condition, never as principals KMS would have to find at deploy time", () => {
    // The Storage stack deploys before the function stacks: KMS refuses a policy whose
    // principals do not exist yet, and a reference to a role would make the stacks circular.
    // Act
    const principals = policy.flatMap((s) => (s.Principal === "*" ? ["*"] : asList(s.Principal?.AWS as unknown[] | undefined).map(resolve)));
    const template = JSON.stringify(synth.templates.storage.toJSON());

    // Assess
    expect([...new Set(principals)]).toEqual([ROOT]);
    expect(template).not.toContain("Fn::ImportValue");
  });

  it.each([...new Set([...READERS, ...WRITERS, ...DESCRIBERS])])(
    "%s's own role policy asks for the payload key only what the key policy allows, with the context",
    (id) => {
      // Prepare
      const fn = functionsOfApp().find((f) => f.id === id)!;
      const stackName = Stack.of(fn).stackName;

      // Act
      const onPayloadKey = statementsOf(synth, fn).filter((s) =>
        asList(s.Resource).some((r) => synth.refersTo(stackName, r) === "key:payload"));
      const actions = onPayloadKey.flatMap((s) => asList(s.Action)).sort();
      const useStatements = onPayloadKey.filter((s) => asList(s.Action).some((a) => a !== "kms:DescribeKey"));

      // Assess
      expect(actions).toEqual(expectedUse(id));
      for (const statement of useStatements) {
        expect(statement.Condition?.StringEquals).toMatchObject({ "kms:EncryptionContext:purpose": BRANCH_KEY_CONTEXT.purpose });
      }
    },
  );
});

/** Who binds each secret, written out by hand (least-privilege.test.ts checks the SSM side). */
const SECRET_READERS: Record<string, string[]> = {
  STRIPE_WEBHOOK_SECRET: ["StripeWebhook"],
  PSEUDONYM_SECRET: ["StripeWebhook", "Entitlements", "Devices", "SyncPush", "SyncPull", "Conflicts", "Handoff", "Crisis", "RealtimeAuthorizer"],
};
const VIA_SSM = "ssm.us-east-1.amazonaws.com";
const parameterArn = (stage: string, secret: string) => `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/sst/paysync/${stage}/Secret/${secret}/value`;

describe("the secrets key's policy", () => {
  let secretsPolicy: KeyPolicyStatement[];
  beforeAll(() => {
    const aliases = synth.templates.storage.findResources("AWS::KMS::Alias", { Properties: { AliasName: "alias/ci-paysync-secrets" } }) as Record<string, { Properties: { TargetKeyId: { "Fn::GetAtt": [string, string] } } }>;
    const [alias] = Object.values(aliases);
    if (!alias) throw new Error("no alias/ci-paysync-secrets: the stage's secrets have no customer-managed key");
    secretsPolicy = keyPolicyOf(alias.Properties.TargetKeyId["Fn::GetAtt"][0]);
  });

  it.each(Object.keys(SECRET_READERS))("%s decrypts, through SSM, only for the functions that bind it", (secret) => {
    // Act
    const readers = functionsOfApp().filter((fn) =>
      allows({ principalArn: roleArnOf(fn), action: "kms:Decrypt", viaService: VIA_SSM, context: { PARAMETER_ARN: parameterArn("ci", secret) } }, secretsPolicy))
      .map((fn) => fn.id);

    // Assess
    expect(readers.sort()).toEqual([...SECRET_READERS[secret]!].sort());
  });

  it.each([
    ["the account root", ROOT],
    ["a role of the account with ssm:GetParameter on every path", `arn:aws:iam::${ACCOUNT}:role/ci-power-user`],
  ])("%s cannot decrypt a secret, through SSM or directly", (_who, principalArn) => {
    // Act
    const readable = Object.keys(SECRET_READERS).filter((secret) =>
      [VIA_SSM, undefined].some((viaService) =>
        allows({ principalArn, action: "kms:Decrypt", viaService, context: { PARAMETER_ARN: parameterArn("ci", secret) } }, secretsPolicy)));

    // Assess
    expect(readable).toEqual([]);
  });

  it("a function cannot decrypt another stage's secret, nor SST's shared fallback", () => {
    // Prepare
    const crisis = roleArnOf(functionsOfApp().find((fn) => fn.id === "Crisis")!);

    // Act
    const other = (stage: string) => allows({ principalArn: crisis, action: "kms:Decrypt", viaService: VIA_SSM, context: { PARAMETER_ARN: parameterArn(stage, "PSEUDONYM_SECRET") } }, secretsPolicy);

    // Assess
    expect(other("ci")).toBe(true);
    expect(other("prod")).toBe(false);
    expect(other(".fallback")).toBe(false);
  });

  it("operators may write this stage's secrets through SSM, and only that", () => {
    // Act
    const write = (stage: string, viaService?: string) =>
      allows({ principalArn: ROOT, action: "kms:Encrypt", viaService, context: { PARAMETER_ARN: parameterArn(stage, "PSEUDONYM_SECRET") } }, secretsPolicy);

    // Assess
    expect(write("ci", VIA_SSM)).toBe(true);
    expect(write("prod", VIA_SSM)).toBe(false);
    expect(write("ci")).toBe(false);
    expect(USE_ACTIONS.filter((action) => action !== "kms:Encrypt" && allows({ principalArn: ROOT, action, viaService: VIA_SSM, context: { PARAMETER_ARN: parameterArn("ci", "PSEUDONYM_SECRET") } }, secretsPolicy))).toEqual([]);
  });

  it("every function is denied SST's shared .fallback secrets, so a stage without its own fails closed", () => {
    // Act
    const without = functionsOfApp().filter((fn) => !statementsOf(synth, fn).some((s) =>
      s.Effect === "Deny" && asList(s.Action).includes("ssm:GetParameters") && JSON.stringify(s.Resource).includes("parameter/sst/paysync/.fallback/*")));

    // Assess
    expect(without.map((fn) => fn.id)).toEqual([]);
  });
});

/** Who may use the entitlement signing key, written out by hand. */
const SIGNERS = ["Entitlements"];
const PUBLISHERS = ["Jwks"];

describe("the entitlement signing key's policy", () => {
  let signingPolicy: KeyPolicyStatement[];
  beforeAll(() => {
    const keys = synth.templates.storage.findResources("AWS::KMS::Key", { Properties: { KeyUsage: "SIGN_VERIFY" } });
    const [keyId] = Object.keys(keys);
    if (!keyId) throw new Error("no SIGN_VERIFY key in the Storage stack");
    signingPolicy = keyPolicyOf(keyId);
  });

  it.each([
    ["the account root (an administrator)", ROOT],
    ["a role of the account outside the stack (CI, a power user)", `arn:aws:iam::${ACCOUNT}:role/ci-power-user`],
    ["a role named like the entitlements function of another stage", `arn:aws:iam::${ACCOUNT}:role/prod-paysync-us-east-1-Entitlements`],
  ])("%s cannot sign entitlements", (_who, principalArn) => {
    // Assess
    expect(allows({ principalArn, action: "kms:Sign" }, signingPolicy)).toBe(false);
  });

  it("only the functions that sign may sign; the one that publishes reads the public key", () => {
    // Act
    const signers = functionsOfApp().filter((fn) => allows({ principalArn: roleArnOf(fn), action: "kms:Sign" }, signingPolicy)).map((fn) => fn.id);
    const publishers = functionsOfApp().filter((fn) => PUBLISHERS.includes(fn.id)).map((fn) => allows({ principalArn: roleArnOf(fn), action: "kms:GetPublicKey" }, signingPolicy));

    // Assess
    expect(signers.sort()).toEqual(SIGNERS);
    // The public key is public (the JWKS serves it): administrators may read it too (kms:Get*).
    expect(publishers).toEqual([true]);
  });

  it("administrators can still manage the key", () => {
    // Act
    const refused = MANAGE_ACTIONS.filter((action) => !allows({ principalArn: ROOT, action }, signingPolicy));

    // Assess
    expect(refused).toEqual([]);
  });
});
