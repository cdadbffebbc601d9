import { createHash, createPrivateKey, createPublicKey, verify } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetPublicKeyCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  VerifyCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey, startLocalKmsForTest, type LocalKmsUnderTest } from "../helpers/kms.js";

const SIGNING = { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" } as const;
const MESSAGE = Buffer.from("eyJhbGciOiJFUzI1NiJ9.eyJ0aWVyIjoicGx1cyJ9");
const DIGEST = createHash("sha256").update(MESSAGE).digest();
/** AWS sends KMSInvalidSignatureException without a message; the SDK then reports "UnknownError". */
const NO_MESSAGE = "UnknownError";

/** The private scalar `d` (base64url) of a PKCS#8 DER key as the state file keeps it. */
function privateScalarOf(pkcs8Base64: string | undefined): string {
  return createPrivateKey({ key: Buffer.from(pkcs8Base64 ?? "", "base64"), format: "der", type: "pkcs8" }).export({ format: "jwk" }).d ?? "";
}

/** An SDK answer as JSON with every byte array in hex, to search it for key bytes. */
const asHex = (answer: unknown) => JSON.stringify(answer, (_, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString("hex") : value));

/** Checks a KMS signature with node:crypto alone, from the DER SubjectPublicKeyInfo GetPublicKey answers. */
function verifiesOffline(publicKeyDer: Uint8Array | undefined, message: Buffer, signature: Uint8Array | undefined): boolean {
  const key = createPublicKey({ key: Buffer.from(publicKeyDer ?? []), format: "der", type: "spki" });
  return verify("sha256", message, { key, dsaEncoding: "der" }, Buffer.from(signature ?? []));
}

describe("asymmetric signing keys on the local KMS endpoint", () => {
  let local: LocalKmsUnderTest;
  let client: KMSClient;
  let signer: { KeyId: string; Arn: string };
  let symmetric: { KeyId: string; Arn: string };
  let publicKey: Uint8Array | undefined;

  beforeAll(async () => {
    local = await startLocalKmsForTest();
    client = local.client;
    signer = await createKey(client, SIGNING);
    symmetric = await createKey(client);
    publicKey = (await client.send(new GetPublicKeyCommand({ KeyId: signer.KeyId }))).PublicKey;
  });

  afterAll(async () => {
    await local.stop();
  });

  it("CreateKey makes an ECC_NIST_P256 signing key, described with its signing algorithm", async () => {
    // Act
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: signer.KeyId }));

    // Assess
    expect(KeyMetadata).toMatchObject({
      KeyState: "Enabled", KeySpec: "ECC_NIST_P256", CustomerMasterKeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", SigningAlgorithms: ["ECDSA_SHA_256"],
    });
    expect(KeyMetadata).not.toHaveProperty("EncryptionAlgorithms");
  });

  it("GetPublicKey answers the key's P-256 public key as DER SubjectPublicKeyInfo, with its spec, usage and algorithm", async () => {
    // Act
    const answer = await client.send(new GetPublicKeyCommand({ KeyId: signer.Arn }));
    const jwk = createPublicKey({ key: Buffer.from(answer.PublicKey ?? []), format: "der", type: "spki" }).export({ format: "jwk" });

    // Assess
    expect(answer).toMatchObject({ KeyId: signer.Arn, KeySpec: "ECC_NIST_P256", CustomerMasterKeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", SigningAlgorithms: ["ECDSA_SHA_256"] });
    expect(answer).not.toHaveProperty("EncryptionAlgorithms");
    expect(jwk).toMatchObject({ kty: "EC", crv: "P-256" });
    expect(jwk).not.toHaveProperty("d");
  });

  it("a RAW message's signature is DER ECDSA over its SHA-256, verifiable offline and by Verify", async () => {
    // Act
    const signed = await client.send(new SignCommand({ KeyId: signer.KeyId, Message: MESSAGE, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" }));
    const checked = await client.send(new VerifyCommand({ KeyId: signer.KeyId, Message: MESSAGE, MessageType: "RAW", Signature: signed.Signature, SigningAlgorithm: "ECDSA_SHA_256" }));

    // Assess
    expect(signed).toMatchObject({ KeyId: signer.Arn, SigningAlgorithm: "ECDSA_SHA_256" });
    expect(Buffer.from(signed.Signature ?? [])[0]).toBe(0x30);
    expect(verifiesOffline(publicKey, MESSAGE, signed.Signature)).toBe(true);
    expect(checked).toMatchObject({ KeyId: signer.Arn, SignatureValid: true, SigningAlgorithm: "ECDSA_SHA_256" });
  });

  it("MessageType is RAW when absent", async () => {
    // Act
    const signed = await client.send(new SignCommand({ KeyId: signer.KeyId, Message: MESSAGE, SigningAlgorithm: "ECDSA_SHA_256" }));

    // Assess
    expect(verifiesOffline(publicKey, MESSAGE, signed.Signature)).toBe(true);
  });

  it("a DIGEST is signed as it is, not hashed again: the signature verifies against the message it digests", async () => {
    // Act
    const signed = await client.send(new SignCommand({ KeyId: signer.KeyId, Message: DIGEST, MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" }));
    const asRaw = await client.send(new VerifyCommand({ KeyId: signer.KeyId, Message: MESSAGE, MessageType: "RAW", Signature: signed.Signature, SigningAlgorithm: "ECDSA_SHA_256" }));
    const asDigest = await client.send(new VerifyCommand({ KeyId: signer.KeyId, Message: DIGEST, MessageType: "DIGEST", Signature: signed.Signature, SigningAlgorithm: "ECDSA_SHA_256" }));

    // Assess
    expect(verifiesOffline(publicKey, MESSAGE, signed.Signature)).toBe(true);
    expect(asRaw.SignatureValid).toBe(true);
    expect(asDigest.SignatureValid).toBe(true);
  });

  it("a message of exactly 4096 bytes is signed", async () => {
    // Prepare
    const message = Buffer.alloc(4096, 0x61);

    // Act
    const signed = await client.send(new SignCommand({ KeyId: signer.KeyId, Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" }));

    // Assess
    expect(verifiesOffline(publicKey, message, signed.Signature)).toBe(true);
  });

  const sign = (keyId: string, input: Partial<{ Message: Uint8Array; MessageType: "RAW" | "DIGEST"; SigningAlgorithm: string }> = {}) =>
    client.send(new SignCommand({ KeyId: keyId, Message: MESSAGE, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256", ...input } as never));
  const signatureOf = async (message: Buffer) => (await sign(signer.KeyId, { Message: message })).Signature;
  const verifyWith = async (input: { Message?: Uint8Array; MessageType?: "RAW" | "DIGEST"; Signature: Uint8Array | undefined }) =>
    client.send(new VerifyCommand({ KeyId: signer.KeyId, Message: MESSAGE, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256", ...input }));

  const REFUSALS: Array<{ name: string; send: () => Promise<unknown>; error: string; message: () => string }> = [
    {
      name: "Verify of another message's signature is KMSInvalidSignatureException, as AWS answers (never SignatureValid: false)",
      send: async () => verifyWith({ Signature: await signatureOf(Buffer.from("another message")) }),
      error: "KMSInvalidSignatureException", message: () => NO_MESSAGE,
    },
    {
      name: "Verify of bytes that are no signature is KMSInvalidSignatureException",
      send: async () => verifyWith({ Signature: Buffer.from("not a signature at all") }),
      error: "KMSInvalidSignatureException", message: () => NO_MESSAGE,
    },
    {
      name: "Verify of a signature against another digest is KMSInvalidSignatureException",
      send: async () => verifyWith({ Message: createHash("sha256").update("other").digest(), MessageType: "DIGEST", Signature: await signatureOf(MESSAGE) }),
      error: "KMSInvalidSignatureException", message: () => NO_MESSAGE,
    },
    {
      name: "a DIGEST that is not 32 bytes is ValidationException, in AWS's words",
      send: () => sign(signer.KeyId, { Message: DIGEST.subarray(1), MessageType: "DIGEST" }),
      error: "ValidationException", message: () => "Digest is invalid length for algorithm ECDSA_SHA_256.",
    },
    {
      name: "a RAW message of more than 4096 bytes is ValidationException",
      send: () => sign(signer.KeyId, { Message: Buffer.alloc(4097) }),
      error: "ValidationException", message: () => "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
    },
    {
      name: "Sign without a SigningAlgorithm is ValidationException",
      send: () => sign(signer.KeyId, { SigningAlgorithm: undefined }),
      error: "ValidationException", message: () => "1 validation error detected: Value null at 'signingAlgorithm' failed to satisfy constraint: Member must not be null",
    },
    {
      name: "Sign with an algorithm the key spec does not offer is InvalidKeyUsageException",
      send: () => sign(signer.KeyId, { SigningAlgorithm: "ECDSA_SHA_384" }),
      error: "InvalidKeyUsageException", message: () => "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.",
    },
    {
      name: "Sign with a symmetric key is InvalidKeyUsageException",
      send: () => sign(symmetric.KeyId),
      error: "InvalidKeyUsageException", message: () => `${symmetric.Arn} key usage is ENCRYPT_DECRYPT which is not valid for Sign.`,
    },
    {
      name: "Verify with a symmetric key is InvalidKeyUsageException",
      send: async () => client.send(new VerifyCommand({ KeyId: symmetric.KeyId, Message: MESSAGE, Signature: await signatureOf(MESSAGE), SigningAlgorithm: "ECDSA_SHA_256" })),
      error: "InvalidKeyUsageException", message: () => `${symmetric.Arn} key usage is ENCRYPT_DECRYPT which is not valid for Verify.`,
    },
    {
      name: "Encrypt with a signing key is InvalidKeyUsageException",
      send: () => client.send(new EncryptCommand({ KeyId: signer.Arn, Plaintext: MESSAGE })),
      error: "InvalidKeyUsageException", message: () => `${signer.Arn} key usage is SIGN_VERIFY which is not valid for Encrypt.`,
    },
    {
      name: "GenerateDataKey with a signing key is InvalidKeyUsageException",
      send: () => client.send(new GenerateDataKeyCommand({ KeyId: signer.KeyId, KeySpec: "AES_256" })),
      error: "InvalidKeyUsageException", message: () => `${signer.Arn} key usage is SIGN_VERIFY which is not valid for GenerateDataKey.`,
    },
    {
      name: "ReEncrypt to a signing key is InvalidKeyUsageException",
      send: async () => {
        const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: MESSAGE }));
        return client.send(new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: signer.KeyId }));
      },
      error: "InvalidKeyUsageException", message: () => `${signer.Arn} key usage is SIGN_VERIFY which is not valid for ReEncrypt.`,
    },
    {
      name: "Decrypt naming a signing key is IncorrectKeyException, as AWS answers",
      send: async () => {
        const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: MESSAGE }));
        return client.send(new DecryptCommand({ CiphertextBlob, KeyId: signer.KeyId }));
      },
      error: "IncorrectKeyException", message: () => "The key ID in the request does not identify a CMK that can perform this operation.",
    },
    {
      name: "GetPublicKey of a symmetric key is UnsupportedOperationException",
      send: () => client.send(new GetPublicKeyCommand({ KeyId: symmetric.KeyId })),
      error: "UnsupportedOperationException", message: () => `${symmetric.Arn} key spec is SYMMETRIC_DEFAULT, which has no public key.`,
    },
    {
      name: "Sign with a key ARN of another Region is NotFoundException",
      send: () => sign(signer.Arn.replace(":us-east-1:", ":eu-west-1:")),
      error: "NotFoundException", message: () => "Invalid arn eu-west-1",
    },
  ];

  for (const { name, send, error, message } of REFUSALS) {
    it(name, async () => {
      // Act
      const attempt = send();

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: error, message: message(), $metadata: { httpStatusCode: 400 } });
    });
  }

  it.each([
    { state: "disabled", change: (keyId: string) => client.send(new DisableKeyCommand({ KeyId: keyId })), error: "DisabledException" },
    { state: "pending deletion", change: (keyId: string) => client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })), error: "KMSInvalidStateException" },
  ])("a signing key $state refuses Sign, Verify and GetPublicKey with $error", async ({ change, error }) => {
    // Prepare
    const { KeyId } = await createKey(client, SIGNING);
    const { Signature } = await sign(KeyId);
    await change(KeyId);

    // Act
    const attempts = [
      sign(KeyId),
      client.send(new VerifyCommand({ KeyId, Message: MESSAGE, Signature, SigningAlgorithm: "ECDSA_SHA_256" })),
      client.send(new GetPublicKeyCommand({ KeyId })),
    ];

    // Assess
    for (const attempt of attempts) await expect(attempt).rejects.toMatchObject({ name: error });
  });

  it.each([
    { name: "an ECC key spec without a KeyUsage", input: { KeySpec: "ECC_NIST_P256" }, error: "ValidationException" },
    { name: "an ECC key for ENCRYPT_DECRYPT", input: { KeySpec: "ECC_NIST_P256", KeyUsage: "ENCRYPT_DECRYPT" }, error: "ValidationException" },
    { name: "a symmetric key for SIGN_VERIFY", input: { KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "SIGN_VERIFY" }, error: "ValidationException" },
    { name: "a key spec AWS does not know", input: { KeySpec: "ECC_NIST_P999", KeyUsage: "SIGN_VERIFY" }, error: "ValidationException" },
    { name: "an RSA signing key (not modelled here)", input: { KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }, error: "UnsupportedOperationException" },
  ])("CreateKey of $name is $error", async ({ input, error }) => {
    // Act
    const attempt = client.send(new CreateKeyCommand(input as never));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: error, $metadata: { httpStatusCode: 400 } });
  });
});

describe("the local KMS endpoint keeps signing keys in its state file only", () => {
  it("no answer carries the private key, the state file (mode 0600) does, and the key signs the same after a restart", async () => {
    // Prepare
    const local = await startLocalKmsForTest();
    const created = await local.client.send(new CreateKeyCommand(SIGNING));
    const keyId = created.KeyMetadata?.KeyId ?? "";
    const answers = [
      created,
      await local.client.send(new DescribeKeyCommand({ KeyId: keyId })),
      await local.client.send(new GetPublicKeyCommand({ KeyId: keyId })),
      await local.client.send(new SignCommand({ KeyId: keyId, Message: MESSAGE, SigningAlgorithm: "ECDSA_SHA_256" })),
    ];
    const before = answers[2] as { PublicKey?: Uint8Array };
    const stored = JSON.parse(readFileSync(local.stateFile, "utf8")) as { keys: Record<string, { privateKey?: string }> };
    const privateScalarHex = Buffer.from(privateScalarOf(stored.keys[keyId]?.privateKey), "base64url").toString("hex");

    // Act
    await local.restart();
    const after = await local.client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    const signed = await local.client.send(new SignCommand({ KeyId: keyId, Message: MESSAGE, SigningAlgorithm: "ECDSA_SHA_256" }));
    const mode = statSync(local.stateFile).mode & 0o777;
    await local.stop();

    // Assess
    expect(privateScalarHex).toHaveLength(64);
    for (const answer of answers) expect(asHex(answer)).not.toContain(privateScalarHex);
    expect(Buffer.from(after.PublicKey ?? []).equals(Buffer.from(before.PublicKey ?? []))).toBe(true);
    expect(verifiesOffline(after.PublicKey, MESSAGE, signed.Signature)).toBe(true);
    expect(mode).toBe(0o600);
  });
});
