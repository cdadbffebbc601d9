import {
  CreateAliasCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateRandomCommand,
  ReEncryptCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey, startLocalKmsForTest, type LocalKmsUnderTest } from "../helpers/kms.js";

const MARKER = "PLAINTEXT-MARKER-5d20aa";
/** AWS sends these errors without a message; the SDK then reports "UnknownError". */
const NO_MESSAGE = "UnknownError";
const SOURCE_CONTEXT = { userKey: "uk_1", entityType: "journal_entry" };
const DESTINATION_CONTEXT = { userKey: "uk_1", entityType: "snapshot" };

describe("symmetric encryption on the local KMS endpoint", () => {
  let local: LocalKmsUnderTest;
  let client: KMSClient;
  let source: { KeyId: string; Arn: string };
  let destination: { KeyId: string; Arn: string };
  const sourceAlias = "alias/paysync-reencrypt-source";

  beforeAll(async () => {
    local = await startLocalKmsForTest();
    client = local.client;
    source = await createKey(client);
    destination = await createKey(client);
    await client.send(new CreateAliasCommand({ AliasName: sourceAlias, TargetKeyId: source.KeyId }));
  });

  afterAll(async () => {
    await local.stop();
  });

  async function sealed(context: Record<string, string> = SOURCE_CONTEXT): Promise<Uint8Array> {
    const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: source.KeyId, Plaintext: Buffer.from(MARKER), EncryptionContext: context }));
    if (!CiphertextBlob) throw new Error("Encrypt returned no blob");
    return CiphertextBlob;
  }

  it("ReEncrypt moves a ciphertext to another key and encryption context, and names both keys by ARN", async () => {
    // Prepare
    const blob = await sealed();

    // Act
    const moved = await client.send(new ReEncryptCommand({
      CiphertextBlob: blob, SourceEncryptionContext: SOURCE_CONTEXT, DestinationKeyId: destination.KeyId, DestinationEncryptionContext: DESTINATION_CONTEXT,
    }));
    const opened = await client.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, KeyId: destination.Arn, EncryptionContext: DESTINATION_CONTEXT }));

    // Assess
    expect(moved).toMatchObject({
      SourceKeyId: source.Arn, KeyId: destination.Arn, SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT", DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
    });
    expect(Buffer.from(opened.Plaintext ?? []).toString()).toBe(MARKER);
  });

  it("a re-encrypted ciphertext no longer opens with its old encryption context", async () => {
    // Prepare
    const moved = await client.send(new ReEncryptCommand({
      CiphertextBlob: await sealed(), SourceEncryptionContext: SOURCE_CONTEXT, DestinationKeyId: destination.KeyId, DestinationEncryptionContext: DESTINATION_CONTEXT,
    }));

    // Act
    const attempt = client.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: SOURCE_CONTEXT }));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: "InvalidCiphertextException" });
  });

  it("ReEncrypt with a SourceKeyId naming the ciphertext's key, by alias, succeeds", async () => {
    // Act
    const moved = await client.send(new ReEncryptCommand({
      CiphertextBlob: await sealed(), SourceKeyId: sourceAlias, SourceEncryptionContext: SOURCE_CONTEXT, DestinationKeyId: destination.Arn,
    }));

    // Assess
    expect(moved.SourceKeyId).toBe(source.Arn);
  });

  const REFUSALS: Array<{ name: string; send: () => Promise<unknown>; error: string; message: string }> = [
    {
      name: "ReEncrypt with a SourceKeyId naming another key is IncorrectKeyException",
      send: async () => client.send(new ReEncryptCommand({ CiphertextBlob: await sealed(), SourceKeyId: destination.KeyId, SourceEncryptionContext: SOURCE_CONTEXT, DestinationKeyId: destination.KeyId })),
      error: "IncorrectKeyException",
      message: "The key ID in the request does not identify a CMK that can perform this operation.",
    },
    {
      name: "ReEncrypt with another source encryption context is InvalidCiphertextException",
      send: async () => client.send(new ReEncryptCommand({ CiphertextBlob: await sealed(), SourceEncryptionContext: DESTINATION_CONTEXT, DestinationKeyId: destination.KeyId })),
      error: "InvalidCiphertextException",
      message: NO_MESSAGE,
    },
    {
      name: "ReEncrypt to a key that does not exist is NotFoundException",
      send: async () => client.send(new ReEncryptCommand({ CiphertextBlob: await sealed(), SourceEncryptionContext: SOURCE_CONTEXT, DestinationKeyId: "alias/nobody" })),
      error: "NotFoundException",
      message: "Alias arn:aws:kms:us-east-1:000000000000:alias/nobody is not found.",
    },
    {
      name: "ReEncrypt without a DestinationKeyId is ValidationException",
      send: async () => client.send(new ReEncryptCommand({ CiphertextBlob: await sealed(), SourceEncryptionContext: SOURCE_CONTEXT } as never)),
      error: "ValidationException",
      message: "1 validation error detected: Value null at 'destinationKeyId' failed to satisfy constraint: Member must not be null",
    },
    {
      name: "Decrypt naming another key than the ciphertext's is IncorrectKeyException",
      send: async () => client.send(new DecryptCommand({ CiphertextBlob: await sealed(), KeyId: destination.Arn, EncryptionContext: SOURCE_CONTEXT })),
      error: "IncorrectKeyException",
      message: "The key ID in the request does not identify a CMK that can perform this operation.",
    },
    {
      name: "Decrypt with another encryption context is InvalidCiphertextException, without a message",
      send: async () => client.send(new DecryptCommand({ CiphertextBlob: await sealed(), EncryptionContext: DESTINATION_CONTEXT })),
      error: "InvalidCiphertextException",
      message: NO_MESSAGE,
    },
    {
      name: "Decrypt with no encryption context of a ciphertext that has one is InvalidCiphertextException",
      send: async () => client.send(new DecryptCommand({ CiphertextBlob: await sealed() })),
      error: "InvalidCiphertextException",
      message: NO_MESSAGE,
    },
    {
      name: "Decrypt of a blob naming a key that does not exist is InvalidCiphertextException",
      send: async () => {
        const blob = Buffer.from(await sealed());
        blob[5] = (blob[5] ?? 0) ^ 0xff;
        return client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: SOURCE_CONTEXT }));
      },
      error: "InvalidCiphertextException",
      message: NO_MESSAGE,
    },
    {
      name: "Decrypt with the RSA algorithm is InvalidKeyUsageException",
      send: async () => client.send(new DecryptCommand({ CiphertextBlob: await sealed(), EncryptionContext: SOURCE_CONTEXT, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" })),
      error: "InvalidKeyUsageException",
      message: "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT.",
    },
    {
      name: "Encrypt of more than 4 KiB is ValidationException in AWS's words",
      send: async () => client.send(new EncryptCommand({ KeyId: source.KeyId, Plaintext: Buffer.alloc(4097) })),
      error: "ValidationException",
      message: "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    },
    {
      name: "GenerateDataKey with both KeySpec and NumberOfBytes is ValidationException",
      send: async () => client.send(new GenerateDataKeyCommand({ KeyId: source.KeyId, KeySpec: "AES_256", NumberOfBytes: 32 })),
      error: "ValidationException",
      message: "Please specify either number of bytes or key spec.",
    },
  ];

  for (const { name, send, error, message } of REFUSALS) {
    it(name, async () => {
      // Act
      const attempt = send();

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: error, message, $metadata: { httpStatusCode: 400 } });
    });
  }

  it.each([{ bytes: 1 }, { bytes: 32 }, { bytes: 1024 }])("GenerateRandom answers $bytes random byte(s)", async ({ bytes }) => {
    // Act
    const first = await client.send(new GenerateRandomCommand({ NumberOfBytes: bytes }));
    const second = await client.send(new GenerateRandomCommand({ NumberOfBytes: bytes }));

    // Assess
    expect(first.Plaintext?.length).toBe(bytes);
    expect(second.Plaintext?.length).toBe(bytes);
    if (bytes >= 32) expect(Buffer.from(first.Plaintext ?? []).equals(Buffer.from(second.Plaintext ?? []))).toBe(false);
  });

  it.each([
    { bytes: "0", input: { NumberOfBytes: 0 }, message: "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1" },
    { bytes: "1025", input: { NumberOfBytes: 1025 }, message: "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024" },
    { bytes: "no", input: {}, message: "NumberOfBytes is required." },
  ])("GenerateRandom of $bytes bytes is ValidationException in AWS's words", async ({ input, message }) => {
    // Act
    const attempt = client.send(new GenerateRandomCommand(input));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: "ValidationException", message });
  });
});
