import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey, kmsClient, REGION, startLocalKmsForTest, type LocalKmsUnderTest } from "../helpers/kms.js";

const OTHER_REGION = "eu-west-1";
const OTHER_ACCOUNT = "111122223333";
const ALIAS = "alias/paysync-names";

describe("the local KMS endpoint finds keys by the names AWS accepts, in its account and the client's Region", () => {
  let local: LocalKmsUnderTest;
  let client: KMSClient;
  let key: { KeyId: string; Arn: string };
  const aliasArn = (region: string, account = "000000000000") => `arn:aws:kms:${region}:${account}:${ALIAS}`;
  const keyArn = (region: string, account = "000000000000") => `arn:aws:kms:${region}:${account}:key/${key.KeyId}`;

  beforeAll(async () => {
    local = await startLocalKmsForTest();
    client = local.client;
    key = await createKey(client);
    await client.send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: key.KeyId }));
  });

  afterAll(async () => {
    await local.stop();
  });

  it.each([
    { name: "key id", keyId: () => key.KeyId },
    { name: "key ARN", keyId: () => keyArn(REGION) },
    { name: "alias name", keyId: () => ALIAS },
    { name: "alias ARN", keyId: () => aliasArn(REGION) },
  ])("a key named by its $name is found", async ({ keyId }) => {
    // Act
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId() }));

    // Assess
    expect(KeyMetadata).toMatchObject({ KeyId: key.KeyId, Arn: key.Arn });
  });

  const MISNAMED: Array<{ name: string; keyId: () => string; message: () => string }> = [
    { name: "a key ARN of another Region is NotFoundException, as AWS answers", keyId: () => keyArn(OTHER_REGION), message: () => `Invalid arn ${OTHER_REGION}` },
    { name: "an alias ARN of another Region is NotFoundException", keyId: () => aliasArn(OTHER_REGION), message: () => `Invalid arn ${OTHER_REGION}` },
    { name: "a key ARN of another account is NotFoundException", keyId: () => keyArn(REGION, OTHER_ACCOUNT), message: () => `Key '${keyArn(REGION, OTHER_ACCOUNT)}' does not exist` },
    { name: "an alias ARN of another account is NotFoundException", keyId: () => aliasArn(REGION, OTHER_ACCOUNT), message: () => `Alias ${aliasArn(REGION, OTHER_ACCOUNT)} is not found.` },
    { name: "a key id that is not a UUID is NotFoundException", keyId: () => "not-a-key", message: () => "Invalid keyId 'not-a-key'" },
    {
      name: "a key id no key has is NotFoundException naming its ARN",
      keyId: () => "6f1c0000-0000-4000-8000-000000000000",
      message: () => `Key 'arn:aws:kms:${REGION}:000000000000:key/6f1c0000-0000-4000-8000-000000000000' does not exist`,
    },
    { name: "an alias no key has is NotFoundException", keyId: () => "alias/nobody", message: () => `Alias arn:aws:kms:${REGION}:000000000000:alias/nobody is not found.` },
  ];

  for (const { name, keyId, message } of MISNAMED) {
    it(`${name} (DescribeKey, Encrypt, GenerateDataKey, Decrypt alike)`, async () => {
      // Prepare
      const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") }));

      // Act
      const attempts = [
        client.send(new DescribeKeyCommand({ KeyId: keyId() })),
        client.send(new EncryptCommand({ KeyId: keyId(), Plaintext: Buffer.from("x") })),
        client.send(new GenerateDataKeyCommand({ KeyId: keyId(), KeySpec: "AES_256" })),
        client.send(new DecryptCommand({ KeyId: keyId(), CiphertextBlob })),
      ];

      // Assess
      for (const attempt of attempts) await expect(attempt).rejects.toMatchObject({ name: "NotFoundException", message: message(), $metadata: { httpStatusCode: 400 } });
    });
  }

  it("a client in another Region gets ARNs of its Region, and the first Region's ARN is not found there", async () => {
    // Prepare
    const elsewhere = kmsClient(local.endpoint, OTHER_REGION);

    // Act
    const created = await createKey(elsewhere);
    const described = await elsewhere.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    const byFirstRegionArn = elsewhere.send(new DescribeKeyCommand({ KeyId: key.Arn }));

    // Assess
    expect(created.Arn).toBe(`arn:aws:kms:${OTHER_REGION}:000000000000:key/${created.KeyId}`);
    expect(described.KeyMetadata?.Arn).toBe(keyArn(OTHER_REGION));
    await expect(byFirstRegionArn).rejects.toMatchObject({ name: "NotFoundException", message: `Invalid arn ${REGION}` });
    elsewhere.destroy();
  });

  it.each([
    { operation: "DisableKey", send: (keyId: string) => client.send(new DisableKeyCommand({ KeyId: keyId })) },
    { operation: "EnableKey", send: (keyId: string) => client.send(new EnableKeyCommand({ KeyId: keyId })) },
    { operation: "ScheduleKeyDeletion", send: (keyId: string) => client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId })) },
    { operation: "CancelKeyDeletion", send: (keyId: string) => client.send(new CancelKeyDeletionCommand({ KeyId: keyId })) },
    { operation: "CreateAlias", send: (keyId: string) => client.send(new CreateAliasCommand({ AliasName: "alias/paysync-second-name", TargetKeyId: keyId })) },
  ])("$operation takes a key id or key ARN only: an alias is NotFoundException and changes nothing", async ({ send }) => {
    // Act
    const byName = send(ALIAS);
    const byArn = send(aliasArn(REGION));

    // Assess
    await expect(byName).rejects.toMatchObject({ name: "NotFoundException", message: `Invalid keyId '${ALIAS}'` });
    await expect(byArn).rejects.toMatchObject({ name: "NotFoundException" });
    expect((await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata?.KeyState).toBe("Enabled");
  });

  it.each([
    { name: "a name without the alias/ prefix", alias: "paysync-no-prefix", error: "ValidationException", message: 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html' },
    { name: "a name with a character AWS never allows", alias: "alias/pay sync", error: "ValidationException", message: "1 validation error detected: Value 'alias/pay sync' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$" },
    { name: "a name under the reserved alias/aws/", alias: "alias/aws/paysync", error: "NotAuthorizedException", message: "alias/aws/paysync is reserved for AWS managed keys" },
    { name: "a name with a colon", alias: "alias/pay:sync", error: "InvalidAliasNameException", message: "alias/pay:sync contains invalid characters for an alias" },
    { name: "a name already taken", alias: ALIAS, error: "AlreadyExistsException", message: `An alias with the name arn:aws:kms:${REGION}:000000000000:${ALIAS} already exists` },
  ])("CreateAlias with $name is $error", async ({ alias, error, message }) => {
    // Act
    const attempt = client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyId }));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: error, message, $metadata: { httpStatusCode: 400 } });
  });

  it("an alias can name a disabled key, as in AWS", async () => {
    // Prepare
    const { KeyId } = await createKey(client);
    await client.send(new DisableKeyCommand({ KeyId }));

    // Act
    await client.send(new CreateAliasCommand({ AliasName: "alias/paysync-disabled", TargetKeyId: KeyId }));
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: "alias/paysync-disabled" }));

    // Assess
    expect(KeyMetadata).toMatchObject({ KeyId, KeyState: "Disabled" });
  });
});
