import { statSync } from "node:fs";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  ListAliasesCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey, outcomeOf, startLocalKmsForTest, type LocalKmsUnderTest } from "../helpers/kms.js";

const DAY_MS = 86_400_000;
const CONTEXT = { userKey: "uk_1" };

/** Every way of using a key for encryption, each given a ciphertext the key made while it was enabled. */
const USES = [
  { use: "Encrypt", send: (client: KMSClient, keyId: string) => client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") })) },
  { use: "GenerateDataKey", send: (client: KMSClient, keyId: string) => client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" })) },
  { use: "GenerateDataKeyWithoutPlaintext", send: (client: KMSClient, keyId: string) => client.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: "AES_256" })) },
  { use: "Decrypt", send: (client: KMSClient, _keyId: string, blob: Uint8Array) => client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: CONTEXT })) },
  { use: "ReEncrypt from it", send: (client: KMSClient, _keyId: string, blob: Uint8Array, other: string) => client.send(new ReEncryptCommand({ CiphertextBlob: blob, SourceEncryptionContext: CONTEXT, DestinationKeyId: other })) },
  {
    use: "ReEncrypt to it",
    send: async (client: KMSClient, keyId: string, _blob: Uint8Array, other: string) =>
      client.send(new ReEncryptCommand({ CiphertextBlob: await sealedUnder(client, other), SourceEncryptionContext: CONTEXT, DestinationKeyId: keyId })),
  },
];

async function sealedUnder(client: KMSClient, keyId: string): Promise<Uint8Array> {
  const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("secret"), EncryptionContext: CONTEXT }));
  if (!CiphertextBlob) throw new Error("Encrypt returned no blob");
  return CiphertextBlob;
}

describe("key states on the local KMS endpoint", () => {
  let clock = Date.now();
  let local: LocalKmsUnderTest;
  let client: KMSClient;
  let destination: string;

  beforeAll(async () => {
    local = await startLocalKmsForTest({ clock: () => clock });
    client = local.client;
    destination = (await createKey(client)).KeyId;
  });

  afterAll(async () => {
    await local.stop();
  });

  it("a new key is enabled, and DescribeKey says what kind of key it is", async () => {
    // Prepare
    const { KeyId } = await createKey(client);

    // Act
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId }));

    // Assess
    expect(KeyMetadata).toMatchObject({
      KeyState: "Enabled", Enabled: true, KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT", EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    });
    expect(KeyMetadata).not.toHaveProperty("DeletionDate");
    expect(KeyMetadata).not.toHaveProperty("SigningAlgorithms");
  });

  it("DisableKey leaves the key described as Disabled", async () => {
    // Prepare
    const { KeyId } = await createKey(client);

    // Act
    await client.send(new DisableKeyCommand({ KeyId }));
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId }));

    // Assess
    expect(KeyMetadata).toMatchObject({ KeyState: "Disabled", Enabled: false });
  });

  it.each(USES)("$use with a disabled key is DisabledException", async ({ send }) => {
    // Prepare
    const { KeyId } = await createKey(client);
    const blob = await sealedUnder(client, KeyId);
    await client.send(new DisableKeyCommand({ KeyId }));

    // Act
    const attempt = send(client, KeyId, blob, destination);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: "DisabledException", $metadata: { httpStatusCode: 400 } });
  });

  it("EnableKey makes a disabled key usable again, and what it sealed before still opens", async () => {
    // Prepare
    const { KeyId } = await createKey(client);
    const blob = await sealedUnder(client, KeyId);
    await client.send(new DisableKeyCommand({ KeyId }));

    // Act
    await client.send(new EnableKeyCommand({ KeyId }));
    const { Plaintext } = await client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: CONTEXT }));
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId }));

    // Assess
    expect(Buffer.from(Plaintext ?? []).toString()).toBe("secret");
    expect(KeyMetadata).toMatchObject({ KeyState: "Enabled", Enabled: true });
  });

  it("DisableKey of a disabled key and EnableKey of an enabled key succeed and change nothing", async () => {
    // Prepare
    const disabled = (await createKey(client)).KeyId;
    const enabled = (await createKey(client)).KeyId;
    await client.send(new DisableKeyCommand({ KeyId: disabled }));

    // Act
    await client.send(new DisableKeyCommand({ KeyId: disabled }));
    await client.send(new EnableKeyCommand({ KeyId: enabled }));

    // Assess
    expect((await client.send(new DescribeKeyCommand({ KeyId: disabled }))).KeyMetadata?.KeyState).toBe("Disabled");
    expect((await client.send(new DescribeKeyCommand({ KeyId: enabled }))).KeyMetadata?.KeyState).toBe("Enabled");
  });

  it("ScheduleKeyDeletion answers the key ARN, PendingDeletion, the window and the date it ends", async () => {
    // Prepare
    const { KeyId, Arn } = await createKey(client);

    // Act
    const scheduled = await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId }));

    // Assess
    expect(scheduled).toMatchObject({ KeyId: Arn, KeyState: "PendingDeletion", PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate?.getTime()).toBeCloseTo(clock + 7 * DAY_MS, -3);
    expect(KeyMetadata).toMatchObject({ KeyState: "PendingDeletion", Enabled: false, DeletionDate: scheduled.DeletionDate });
  });

  it("ScheduleKeyDeletion without a window waits 30 days", async () => {
    // Prepare
    const { KeyId } = await createKey(client);

    // Act
    const scheduled = await client.send(new ScheduleKeyDeletionCommand({ KeyId }));

    // Assess
    expect(scheduled.PendingWindowInDays).toBe(30);
    expect(scheduled.DeletionDate?.getTime()).toBeCloseTo(clock + 30 * DAY_MS, -3);
  });

  it.each([{ days: 6 }, { days: 31 }, { days: 7.5 }])("a deletion window of $days days is ValidationException", async ({ days }) => {
    // Prepare
    const { KeyId } = await createKey(client);

    // Act
    const attempt = client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: days }));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: "ValidationException" });
    expect((await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata?.KeyState).toBe("Enabled");
  });

  it.each(USES)("$use with a key pending deletion is KMSInvalidStateException", async ({ send }) => {
    // Prepare
    const { KeyId } = await createKey(client);
    const blob = await sealedUnder(client, KeyId);
    await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));

    // Act
    const attempt = send(client, KeyId, blob, destination);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: "KMSInvalidStateException", $metadata: { httpStatusCode: 400 } });
  });

  it.each([
    { operation: "DisableKey", send: (keyId: string) => client.send(new DisableKeyCommand({ KeyId: keyId })) },
    { operation: "EnableKey", send: (keyId: string) => client.send(new EnableKeyCommand({ KeyId: keyId })) },
    { operation: "ScheduleKeyDeletion", send: (keyId: string) => client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId })) },
    { operation: "CreateAlias", send: (keyId: string) => client.send(new CreateAliasCommand({ AliasName: `alias/pending-${keyId}`, TargetKeyId: keyId })) },
  ])("$operation of a key pending deletion is KMSInvalidStateException", async ({ send }) => {
    // Prepare
    const { KeyId } = await createKey(client);
    await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));

    // Act
    const attempt = send(KeyId);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: "KMSInvalidStateException" });
  });

  it("CancelKeyDeletion leaves the key Disabled, as AWS does; EnableKey brings it back", async () => {
    // Prepare
    const { KeyId, Arn } = await createKey(client);
    await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));

    // Act
    const cancelled = await client.send(new CancelKeyDeletionCommand({ KeyId }));
    const afterCancel = (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata;
    await client.send(new EnableKeyCommand({ KeyId }));
    const afterEnable = (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata;

    // Assess
    expect(cancelled.KeyId).toBe(Arn);
    expect(afterCancel).toMatchObject({ KeyState: "Disabled", Enabled: false });
    expect(afterCancel).not.toHaveProperty("DeletionDate");
    expect(afterEnable).toMatchObject({ KeyState: "Enabled", Enabled: true });
  });

  it.each([{ state: "enabled", disable: false }, { state: "disabled", disable: true }])(
    "CancelKeyDeletion of an $state key is KMSInvalidStateException",
    async ({ disable }) => {
      // Prepare
      const { KeyId } = await createKey(client);
      if (disable) await client.send(new DisableKeyCommand({ KeyId }));

      // Act
      const attempt = client.send(new CancelKeyDeletionCommand({ KeyId }));

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: "KMSInvalidStateException" });
    },
  );

  it("once its deletion date has passed, a key and its aliases are gone", async () => {
    // Prepare
    const { KeyId, Arn } = await createKey(client);
    const alias = `alias/doomed-${KeyId}`;
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyId }));
    await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    const before = await outcomeOf(client.send(new DescribeKeyCommand({ KeyId })));

    // Act
    clock += 7 * DAY_MS + 1;
    const { Aliases } = await client.send(new ListAliasesCommand({}));
    const byId = client.send(new DescribeKeyCommand({ KeyId }));
    const byAlias = client.send(new DescribeKeyCommand({ KeyId: alias }));

    // Assess
    expect(before).toBe("success");
    await expect(byId).rejects.toMatchObject({ name: "NotFoundException", message: `Key '${Arn}' does not exist` });
    await expect(byAlias).rejects.toMatchObject({ name: "NotFoundException" });
    expect(Aliases?.map(({ AliasName }) => AliasName)).not.toContain(alias);
  });
});

describe("the local KMS endpoint keeps key states in its state file", () => {
  it("a disabled key and a key pending deletion are still so after a restart, in a file only its owner reads", async () => {
    // Prepare
    const local = await startLocalKmsForTest();
    const disabled = (await createKey(local.client)).KeyId;
    const doomed = (await createKey(local.client)).KeyId;
    await local.client.send(new DisableKeyCommand({ KeyId: disabled }));
    const { DeletionDate } = await local.client.send(new ScheduleKeyDeletionCommand({ KeyId: doomed, PendingWindowInDays: 10 }));

    // Act
    await local.restart();
    const disabledAfter = (await local.client.send(new DescribeKeyCommand({ KeyId: disabled }))).KeyMetadata;
    const doomedAfter = (await local.client.send(new DescribeKeyCommand({ KeyId: doomed }))).KeyMetadata;
    const mode = statSync(local.stateFile).mode & 0o777;
    await local.stop();

    // Assess
    expect(disabledAfter).toMatchObject({ KeyState: "Disabled", Enabled: false });
    expect(doomedAfter).toMatchObject({ KeyState: "PendingDeletion", DeletionDate });
    expect(mode).toBe(0o600);
  });

  it("a state file written before key states existed loads: its keys are enabled symmetric keys", async () => {
    // Prepare
    const keyId = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
    const legacy = { keys: { [keyId]: { material: Buffer.alloc(32, 7).toString("base64"), createdAt: 1_700_000_000_000, description: "from before" } }, aliases: {} };

    // Act
    const local = await startLocalKmsForTest({ initialState: JSON.stringify(legacy) });
    const { KeyMetadata } = await local.client.send(new DescribeKeyCommand({ KeyId: keyId }));
    const blob = await sealedUnder(local.client, keyId);
    const { Plaintext } = await local.client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: CONTEXT }));
    await local.stop();

    // Assess
    expect(KeyMetadata).toMatchObject({ KeyId: keyId, Description: "from before", KeyState: "Enabled", KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT" });
    expect(Buffer.from(Plaintext ?? []).toString()).toBe("secret");
  });
});
