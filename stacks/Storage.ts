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
import { isEphemeralStage } from "./stage.js";

/**
 * The data: one customer-managed KMS key (tables, queues and payload envelopes), the
 * asymmetric key that signs entitlements, the DynamoDB tables of TABLES, and the secrets and
 * parameters functions bind.
 */
export function Storage({ stack, app }: StackContext) {
  const key = new kms.Key(stack, "DataKey", {
    description: `paysync ${app.stage}: tables, lanes and payload envelope encryption`,
    enableKeyRotation: true,
    alias: `${app.stage}-${app.name}-data`,
  });

  // ES256 for signedEntitlements (SPEC §3.1). KMS does not rotate asymmetric keys: rotating
  // means a new key, published in the JWKS before it signs (docs/PAYMENTS.md).
  const signingKey = new kms.Key(stack, "EntitlementSigningKey", {
    description: `paysync ${app.stage}: signs entitlements (ES256)`,
    keySpec: kms.KeySpec[SIGNING_KEY.keySpec],
    keyUsage: kms.KeyUsage[SIGNING_KEY.keyUsage],
    alias: `${app.stage}-${app.name}-entitlement-signing`,
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
            encryptionKey: key,
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
    KMS_KEY_ARN: key.keyArn,
    SIGNING_KEY_ARN: signingKey.keyArn,
    // Stripe price id → tier; prices carrying `metadata.tier` or a lookup key need no entry.
    PRICE_TIERS: process.env.PAYSYNC_PRICE_TIERS ?? "{}",
  };
  const parameters = Object.fromEntries(
    PARAMETERS.map((name) => [name, new Config.Parameter(stack, name, { value: parameterValues[name] })]),
  ) as Record<ParameterName, Config.Parameter>;

  return { key, signingKey, tables, secrets, parameters };
}
