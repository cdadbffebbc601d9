import { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type { IConstruct } from "constructs";
import { BRANCH_KEY_KMS_CONTEXT } from "@paysync/aws/crypto/kms-context";
import { FUNCTIONS, SECRETS, type FunctionDefinition, type PayloadKeyUse, type SecretName } from "@paysync/aws/resources";
import { functionRoleName, secretParameterName, type StageName } from "./stage.js";

/**
 * The policies of the payload key and of the secrets key, and their functions' grants
 * (docs/SECURITY.md, "Keys and who can use them").
 *
 * Payload key: CDK's default key policy gives the account `kms:*`, which delegates the key to IAM: any role
 * of the account allowed `kms:Decrypt` on `*` could unwrap every branch key. This policy keeps
 * administration with the account (so the key stays manageable) but no use: `kms:Decrypt` and
 * `kms:GenerateDataKey` are admitted only for the named function roles (`aws:PrincipalArn`,
 * fixed role names, see `functionRoleName`), and only with the branch-key encryption context.
 * Nothing calls `key.grant*()`, which would add unconditional statements to the roles.
 *
 * @example
 * ```ts
 * new kms.Key(stack, "PayloadKey", { policy: payloadKeyPolicy(stack, app), enableKeyRotation: true });
 * ```
 */

/**
 * What administrators may do. AWS's "key administrators" set without `kms:Create*`: that
 * includes `kms:CreateGrant`, with which an administrator could grant themselves Decrypt.
 * `kms:PutKeyPolicy` stays (a key nobody can manage cannot be fixed or retired): rewriting the
 * policy is the one way to use the key as an administrator, and CloudTrail records it.
 */
export const KEY_ADMIN_ACTIONS = [
  "kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
  "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
  "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
];

/** The KMS action each use needs, for the key policy and the role policy alike. */
const USE_ACTION: Record<Exclude<PayloadKeyUse, "describe">, string> = {
  decrypt: "kms:Decrypt",
  generate: "kms:GenerateDataKey",
};

/** Exactly the branch-key context: that key and value, and no other key. */
function branchKeyContextConditions(): Record<string, Record<string, unknown>> {
  return {
    StringEquals: Object.fromEntries(Object.entries(BRANCH_KEY_KMS_CONTEXT).map(([key, value]) => [`kms:EncryptionContext:${key}`, value])),
    "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": Object.keys(BRANCH_KEY_KMS_CONTEXT) },
  };
}

/** The ARNs of the roles of the functions `which` selects. */
function roleArnsOf(stack: Stack, stage: StageName, which: (fn: FunctionDefinition) => boolean): string[] {
  return (Object.values(FUNCTIONS) as FunctionDefinition[])
    .filter(which)
    .map((fn) => stack.formatArn({ service: "iam", region: "", resource: "role", resourceName: functionRoleName(stage, fn.id) }));
}

/** The payload key's policy: the account administers, the named function roles use. */
export function payloadKeyPolicy(scope: IConstruct, stage: StageName): iam.PolicyDocument {
  const stack = Stack.of(scope);
  const account = new iam.AccountRootPrincipal();
  const statements = [
    new iam.PolicyStatement({ sid: "AdministerWithoutUse", principals: [account], actions: KEY_ADMIN_ACTIONS, resources: ["*"] }),
  ];
  for (const [use, action] of Object.entries(USE_ACTION) as [keyof typeof USE_ACTION, string][]) {
    statements.push(new iam.PolicyStatement({
      sid: use === "decrypt" ? "ReadersUnwrapBranchKeys" : "WritersGenerateBranchKeys",
      // The account as principal, narrowed to the roles: KMS checks that principals exist when
      // the policy is set, and the roles are created by later stacks.
      principals: [account],
      actions: [action],
      resources: ["*"],
      conditions: { ArnEquals: { "aws:PrincipalArn": roleArnsOf(stack, stage, (fn) => fn.payloadKey?.includes(use) === true) }, ...branchKeyContextConditions() },
    }));
  }
  return new iam.PolicyDocument({ statements });
}

/**
 * The entitlement signing key's policy. With CDK's default (the account `kms:*`), any role of the
 * account allowed `kms:Sign` on `*` could sign entitlements that grant premium. Here the account
 * administers without signing; `kms:Sign` is admitted only for the roles of the functions whose
 * `signingKey` is `sign`, and `kms:GetPublicKey` (public anyway) for those whose is `public_key`.
 */
export function signingKeyPolicy(scope: IConstruct, stage: StageName): iam.PolicyDocument {
  const stack = Stack.of(scope);
  const account = new iam.AccountRootPrincipal();
  const roles = (use: FunctionDefinition["signingKey"]) => ({ ArnEquals: { "aws:PrincipalArn": roleArnsOf(stack, stage, (fn) => fn.signingKey === use) } });
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({ sid: "AdministerWithoutSigning", principals: [account], actions: KEY_ADMIN_ACTIONS, resources: ["*"] }),
      new iam.PolicyStatement({ sid: "EntitlementsSign", principals: [account], actions: ["kms:Sign"], resources: ["*"], conditions: roles("sign") }),
      new iam.PolicyStatement({ sid: "JwksPublishesThePublicKey", principals: [account], actions: ["kms:GetPublicKey"], resources: ["*"], conditions: roles("public_key") }),
    ],
  });
}

/** The function role's side of the same grants: what its FUNCTIONS entry says, with the context. */
export function grantPayloadKey(role: iam.IRole, key: kms.IKey, uses: readonly PayloadKeyUse[]): void {
  const actions = uses.filter((use) => use !== "describe").map((use) => USE_ACTION[use]);
  if (actions.length > 0) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [key.keyArn], conditions: branchKeyContextConditions() }));
  }
  if (uses.includes("describe")) role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["kms:DescribeKey"], resources: [key.keyArn] }));
}

/*
 * Secrets key: the SSM SecureString parameters of SECRETS (`/sst/<app>/<stage>/Secret/<name>/value`)
 * are encrypted under it instead of the AWS-managed `aws/ssm` key, which any principal allowed
 * `ssm:GetParameter` can use. Operators may write a stage's secrets (kms:Encrypt through SSM)
 * but not read them; each secret decrypts, through SSM, only for the roles of the functions
 * that bind it. SSM puts the parameter's ARN in the encryption context, so a condition on it
 * names the parameter.
 */

/** The ARN of a secret's parameter in this stage. */
function secretParameterArn(stack: Stack, stage: StageName, name: SecretName): string {
  return stack.formatArn({ service: "ssm", resource: "parameter", resourceName: secretParameterName(stage, name).slice(1) });
}

function viaSsm(stack: Stack): Record<string, string> {
  return { "kms:ViaService": `ssm.${stack.region}.amazonaws.com` };
}

/** The secrets key's policy: the account administers and writes secrets, the binding functions read. */
export function secretsKeyPolicy(scope: IConstruct, stage: StageName): iam.PolicyDocument {
  const stack = Stack.of(scope);
  const account = new iam.AccountRootPrincipal();
  const statements = [
    new iam.PolicyStatement({ sid: "AdministerWithoutUse", principals: [account], actions: KEY_ADMIN_ACTIONS, resources: ["*"] }),
    new iam.PolicyStatement({
      sid: "OperatorsWriteStageSecrets",
      principals: [account],
      actions: ["kms:Encrypt"],
      resources: ["*"],
      conditions: {
        StringEquals: viaSsm(stack),
        StringLike: { "kms:EncryptionContext:PARAMETER_ARN": secretParameterArn(stack, stage, "*" as SecretName) },
      },
    }),
  ];
  for (const name of SECRETS) {
    statements.push(new iam.PolicyStatement({
      sid: `FunctionsRead${name.replace(/[^A-Za-z0-9]/g, "")}`,
      principals: [account],
      actions: ["kms:Decrypt"],
      resources: ["*"],
      conditions: {
        ArnEquals: { "aws:PrincipalArn": roleArnsOf(stack, stage, (fn) => fn.secrets.includes(name)) },
        StringEquals: { ...viaSsm(stack), "kms:EncryptionContext:PARAMETER_ARN": secretParameterArn(stack, stage, name) },
      },
    }));
  }
  return new iam.PolicyDocument({ statements });
}

/**
 * The function role's side: decrypt, through SSM, exactly its own secrets; and never read SST's
 * shared `.fallback` secrets, so a stage without its own secret fails closed at cold start.
 */
export function grantSecrets(role: iam.IRole, key: kms.IKey, stage: StageName, names: readonly SecretName[]): void {
  const stack = Stack.of(role);
  if (names.length > 0) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ["kms:Decrypt"],
      resources: [key.keyArn],
      conditions: { StringEquals: { ...viaSsm(stack), "kms:EncryptionContext:PARAMETER_ARN": names.map((name) => secretParameterArn(stack, stage, name)) } },
    }));
  }
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    actions: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
    resources: [stack.formatArn({ service: "ssm", resource: "parameter", resourceName: `sst/${stage.name}/.fallback/*` })],
  }));
}
