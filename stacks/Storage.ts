import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as kms from "aws-cdk-lib/aws-kms";
import { Config, Table, type StackContext } from "sst/constructs";
import {
  PARAMETERS,
  SECRETS,
  SIGNING_KEY,
  TABLES,
  type ParameterName,
  type SecretName,
  type TableId,
} from "@paysync/aws/resources";
import { payloadKeyPolicy, secretsKeyPolicy, signingKeyPolicy } from "./key-policies.js";
import { isEphemeralStage, secretsKeyAlias } from "./stage.js";

/**
 * The data: two customer-managed KMS keys, the DynamoDB tables of TABLES, and the secrets and
 * parameters functions bind. The data key encrypts tables and lanes at rest (used only through
 * DynamoDB and SQS); the payload key wraps the branch keys of payload envelopes, under its own
 * policy (key-policies.ts), so that table or queue access never comes with payload access; and
 * the asymmetric key that signs entitlements.
 */
export function Storage({ stack, app }: StackContext) {
  const dataKey = new kms.Key(stack, "DataKey", {
    description: `paysync ${app.stage}: tables and lanes at rest`,
    enableKeyRotation: true,
    alias: `${app.stage}-${app.name}-data`,
  });
  const payloadKey = new kms.Key(stack, "PayloadKey", {
    description: `paysync ${app.stage}: payload envelope branch keys`,
    enableKeyRotation: true,
    alias: `${app.stage}-${app.name}-payload`,
    policy: payloadKeyPolicy(stack, app),
  });
  const secretsKey = new kms.Key(stack, "SecretsKey", {
    description: `paysync ${app.stage}: the stage's secrets in SSM`,
    enableKeyRotation: true,
    // `npm run secrets` writes under this alias, and a deploy checks each secret is under it.
    alias: secretsKeyAlias(app).slice("alias/".length),
    policy: secretsKeyPolicy(stack, app),
  });

  // ES256 for signedEntitlements (SPEC §3.1). KMS does not rotate asymmetric keys: rotating
  // means a new key, published in the JWKS before it signs (docs/PAYMENTS.md).
  const signingKey = new kms.Key(stack, "EntitlementSigningKey", {
    description: `paysync ${app.stage}: signs entitlements (ES256)`,
    keySpec: kms.KeySpec[SIGNING_KEY.keySpec],
    keyUsage: kms.KeyUsage[SIGNING_KEY.keyUsage],
    alias: `${app.stage}-${app.name}-entitlement-signing`,
    policy: signingKeyPolicy(stack, app),
  });

  const tables = Object.fromEntries(
    Object.values(TABLES).map((definition) => [
      definition.id,
      new Table(stack, definition.id, {
        fields: definition.fields,
        primaryIndex: { partitionKey: definition.partitionKey, sortKey: definition.sortKey },
        globalIndexes: Object.fromEntries(
          Object.entries(definition.globalIndexes).map(([name, index]) => [
            name,
            { partitionKey: index.partitionKey, sortKey: index.sortKey },
          ]),
        ),
        timeToLiveAttribute: definition.timeToLiveAttribute,
        cdk: {
          table: {
            encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryptionKey: dataKey,
            // SST sets the deprecated `pointInTimeRecovery`; CDK refuses both at once.
            pointInTimeRecovery: undefined,
            pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
            deletionProtection: !isEphemeralStage(app.stage),
          },
        },
      }),
    ]),
  ) as Record<TableId, Table>;

  const secrets = Object.fromEntries(
    SECRETS.map((name) => [name, new Config.Secret(stack, name)]),
  ) as Record<SecretName, Config.Secret>;

  const parameterValues: Record<ParameterName, string> = {
    KMS_KEY_ARN: payloadKey.keyArn,
    SIGNING_KEY_ARN: signingKey.keyArn,
    // Stripe price id → tier; prices carrying `metadata.tier` or a lookup key need no entry.
    PRICE_TIERS: process.env.PAYSYNC_PRICE_TIERS ?? "{}",
  };
  const parameters = Object.fromEntries(
    PARAMETERS.map((name) => [name, new Config.Parameter(stack, name, { value: parameterValues[name] })]),
  ) as Record<ParameterName, Config.Parameter>;

  return { dataKey, payloadKey, secretsKey, signingKey, tables, secrets, parameters };
}
