import { createHash, createPublicKey, verify } from "node:crypto";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateRandomCommand,
  GetPublicKeyCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  VerifyCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey, motoServerPath, startLocalKmsForTest, startMotoServer, type KmsUnderTest } from "../helpers/kms.js";

/**
 * One table of requests, sent through the real SDK client to the local endpoint and, when it is
 * installed, to moto_server, an independent KMS emulator. `aws` is what AWS KMS answers (its API
 * reference, and answers recorded against the service); the local endpoint must answer exactly
 * that. `moto` records where moto_server answers otherwise, so each difference stays written down
 * and is noticed if moto changes.
 */

const DAY_MS = 86_400_000;
const MESSAGE = Buffer.from("header.payload");
const DIGEST = createHash("sha256").update(MESSAGE).digest();
const CONTEXT = { userKey: "uk_1" };

type Outcome = { error: string } | { answer: Record<string, unknown> };
interface Check {
  name: string;
  run: (client: KMSClient) => Promise<Record<string, unknown>>;
  aws: Outcome;
  moto?: Outcome & { differs: string };
}

const signingKey = (client: KMSClient) => createKey(client, { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
const signRaw = (client: KMSClient, keyId: string, message: Uint8Array = MESSAGE) =>
  client.send(new SignCommand({ KeyId: keyId, Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" }));

async function publicKeyOf(client: KMSClient, keyId: string) {
  const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  return createPublicKey({ key: Buffer.from(PublicKey ?? []), format: "der", type: "spki" });
}

const verifiesOffline = async (client: KMSClient, keyId: string, signature: Uint8Array | undefined) =>
  verify("sha256", MESSAGE, { key: await publicKeyOf(client, keyId), dsaEncoding: "der" }, Buffer.from(signature ?? []));

async function sealed(client: KMSClient, keyId: string): Promise<Uint8Array | undefined> {
  return (await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("secret"), EncryptionContext: CONTEXT }))).CiphertextBlob;
}

const stateOf = async (client: KMSClient, keyId: string) => {
  const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
  return { KeyState: KeyMetadata?.KeyState, Enabled: KeyMetadata?.Enabled, hasDeletionDate: KeyMetadata?.DeletionDate !== undefined };
};

/** Rounded days from now until a date: a deletion date is compared by its window. */
const daysUntil = (date: Date | undefined) => (date === undefined ? undefined : Math.round((date.getTime() - Date.now()) / DAY_MS));

const SIGNING_CHECKS: Check[] = [
  {
    name: "a P-256 signing key is described with its spec, usage and ECDSA_SHA_256",
    run: async (client) => {
      const key = await signingKey(client);
      return { KeySpec: key.KeySpec, KeyUsage: key.KeyUsage, SigningAlgorithms: key.SigningAlgorithms };
    },
    aws: { answer: { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", SigningAlgorithms: ["ECDSA_SHA_256"] } },
  },
  {
    name: "a RAW signature is DER ECDSA over SHA-256, verifiable offline with GetPublicKey's key, and by Verify",
    run: async (client) => {
      const { KeyId } = await signingKey(client);
      const { Signature, SigningAlgorithm } = await signRaw(client, KeyId);
      const { SignatureValid } = await client.send(new VerifyCommand({ KeyId, Message: MESSAGE, MessageType: "RAW", Signature, SigningAlgorithm: "ECDSA_SHA_256" }));
      return { offline: await verifiesOffline(client, KeyId, Signature), SigningAlgorithm, SignatureValid };
    },
    aws: { answer: { offline: true, SigningAlgorithm: "ECDSA_SHA_256", SignatureValid: true } },
  },
  {
    name: "GetPublicKey answers a P-256 SubjectPublicKeyInfo with the key ARN, spec, usage and algorithms",
    run: async (client) => {
      const { KeyId, Arn } = await signingKey(client);
      const answer = await client.send(new GetPublicKeyCommand({ KeyId }));
      const { kty, crv } = createPublicKey({ key: Buffer.from(answer.PublicKey ?? []), format: "der", type: "spki" }).export({ format: "jwk" });
      return { namesArn: answer.KeyId === Arn, KeySpec: answer.KeySpec, KeyUsage: answer.KeyUsage, SigningAlgorithms: answer.SigningAlgorithms, kty, crv };
    },
    aws: { answer: { namesArn: true, KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", SigningAlgorithms: ["ECDSA_SHA_256"], kty: "EC", crv: "P-256" } },
    moto: {
      answer: { namesArn: false, KeySpec: undefined, KeyUsage: "SIGN_VERIFY", SigningAlgorithms: ["ECDSA_SHA_256"], kty: "EC", crv: "P-256" },
      differs: "it answers the bare key id and only the deprecated CustomerMasterKeySpec",
    },
  },
  {
    name: "a DIGEST is signed as it is: the signature verifies against the message it digests",
    run: async (client) => {
      const { KeyId } = await signingKey(client);
      const { Signature } = await client.send(new SignCommand({ KeyId, Message: DIGEST, MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" }));
      return { offline: await verifiesOffline(client, KeyId, Signature) };
    },
    aws: { answer: { offline: true } },
    moto: { answer: { offline: false }, differs: "it ignores MessageType and hashes the digest again" },
  },
  {
    name: "a DIGEST that is not 32 bytes is refused",
    run: async (client) => {
      const { KeyId } = await signingKey(client);
      await client.send(new SignCommand({ KeyId, Message: DIGEST.subarray(1), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" }));
      return {};
    },
    aws: { error: "ValidationException" },
    moto: { answer: {}, differs: "it signs a digest of any length" },
  },
  {
    name: "Verify of another message's signature is refused",
    run: async (client) => {
      const { KeyId } = await signingKey(client);
      const { Signature } = await signRaw(client, KeyId, Buffer.from("another message"));
      const { SignatureValid } = await client.send(new VerifyCommand({ KeyId, Message: MESSAGE, MessageType: "RAW", Signature, SigningAlgorithm: "ECDSA_SHA_256" }));
      return { SignatureValid };
    },
    aws: { error: "KMSInvalidSignatureException" },
    moto: { answer: { SignatureValid: false }, differs: "it answers SignatureValid: false, which AWS never does" },
  },
  {
    name: "Sign with an algorithm the key spec does not offer is refused",
    run: async (client) => {
      const { KeyId } = await signingKey(client);
      await client.send(new SignCommand({ KeyId, Message: MESSAGE, SigningAlgorithm: "ECDSA_SHA_384" }));
      return {};
    },
    aws: { error: "InvalidKeyUsageException" },
    moto: { error: "ValidationException", differs: "it answers ValidationException" },
  },
  {
    name: "Sign with a symmetric key is refused",
    run: async (client) => {
      await signRaw(client, (await createKey(client)).KeyId);
      return {};
    },
    aws: { error: "InvalidKeyUsageException" },
    moto: { error: "ValidationException", differs: "it answers ValidationException" },
  },
  {
    name: "Encrypt with a signing key is refused",
    run: async (client) => {
      await sealed(client, (await signingKey(client)).KeyId);
      return {};
    },
    aws: { error: "InvalidKeyUsageException" },
    moto: { answer: {}, differs: "it encrypts with any key" },
  },
  {
    name: "GetPublicKey of a symmetric key is refused",
    run: async (client) => {
      await client.send(new GetPublicKeyCommand({ KeyId: (await createKey(client)).KeyId }));
      return {};
    },
    aws: { error: "UnsupportedOperationException" },
    moto: { answer: {}, differs: "it answers a public key for a symmetric key" },
  },
];

const STATE_CHECKS: Check[] = [
  {
    name: "DisableKey leaves the key Disabled, and EnableKey Enabled again",
    run: async (client) => {
      const { KeyId } = await createKey(client);
      await client.send(new DisableKeyCommand({ KeyId }));
      const disabled = await stateOf(client, KeyId);
      await client.send(new EnableKeyCommand({ KeyId }));
      return { disabled, enabled: await stateOf(client, KeyId) };
    },
    aws: { answer: { disabled: { KeyState: "Disabled", Enabled: false }, enabled: { KeyState: "Enabled", Enabled: true } } },
  },
  {
    name: "Encrypt with a disabled key is refused",
    run: async (client) => {
      const { KeyId } = await createKey(client);
      await client.send(new DisableKeyCommand({ KeyId }));
      await sealed(client, KeyId);
      return {};
    },
    aws: { error: "DisabledException" },
    moto: { answer: {}, differs: "it encrypts with a disabled key" },
  },
  {
    name: "Sign with a disabled key is refused",
    run: async (client) => {
      const { KeyId } = await signingKey(client);
      await client.send(new DisableKeyCommand({ KeyId }));
      await signRaw(client, KeyId);
      return {};
    },
    aws: { error: "DisabledException" },
    moto: { answer: {}, differs: "it signs with a disabled key" },
  },
  {
    name: "a key scheduled for deletion is described PendingDeletion, with its deletion date",
    run: async (client) => {
      const { KeyId } = await createKey(client);
      await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
      const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId }));
      return { KeyState: KeyMetadata?.KeyState, Enabled: KeyMetadata?.Enabled, days: daysUntil(KeyMetadata?.DeletionDate) };
    },
    aws: { answer: { KeyState: "PendingDeletion", Enabled: false, days: 7 } },
  },
  {
    name: "ScheduleKeyDeletion answers the key ARN, the state and the window",
    run: async (client) => {
      const { KeyId, Arn } = await createKey(client);
      const answer = await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
      return { namesArn: answer.KeyId === Arn, KeyState: answer.KeyState, PendingWindowInDays: answer.PendingWindowInDays, days: daysUntil(answer.DeletionDate) };
    },
    aws: { answer: { namesArn: true, KeyState: "PendingDeletion", PendingWindowInDays: 7, days: 7 } },
    moto: { answer: { namesArn: false, KeyState: undefined, PendingWindowInDays: undefined, days: 7 }, differs: "it answers the key id as given, and only the date" },
  },
  {
    name: "Encrypt with a key pending deletion is refused",
    run: async (client) => {
      const { KeyId } = await createKey(client);
      await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
      await sealed(client, KeyId);
      return {};
    },
    aws: { error: "KMSInvalidStateException" },
    moto: { answer: {}, differs: "it encrypts with a key pending deletion" },
  },
  {
    name: "CancelKeyDeletion leaves the key Disabled, without a deletion date",
    run: async (client) => {
      const { KeyId } = await createKey(client);
      await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
      await client.send(new CancelKeyDeletionCommand({ KeyId }));
      return stateOf(client, KeyId);
    },
    aws: { answer: { KeyState: "Disabled", Enabled: false, hasDeletionDate: false } },
  },
  {
    name: "a deletion window of 6 days is refused",
    run: async (client) => {
      const { KeyId } = await createKey(client);
      await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 6 }));
      return stateOf(client, KeyId);
    },
    aws: { error: "ValidationException" },
    moto: { answer: { KeyState: "Enabled" }, differs: "it answers success and schedules nothing" },
  },
  {
    name: "ScheduleKeyDeletion of a key already pending deletion is refused",
    run: async (client) => {
      const { KeyId } = await createKey(client);
      await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
      await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 30 }));
      return {};
    },
    aws: { error: "KMSInvalidStateException" },
    moto: { answer: {}, differs: "it moves the deletion date" },
  },
  {
    name: "CancelKeyDeletion of a key that is not pending deletion is refused",
    run: async (client) => {
      const { KeyId } = await createKey(client);
      await client.send(new CancelKeyDeletionCommand({ KeyId }));
      return stateOf(client, KeyId);
    },
    aws: { error: "KMSInvalidStateException" },
    moto: { answer: { KeyState: "Disabled" }, differs: "it disables the enabled key" },
  },
  {
    name: "DisableKey names a key by id or ARN only: an alias is not found",
    run: async (client) => {
      const { KeyId } = await createKey(client);
      const alias = `alias/parity-${KeyId}`;
      await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyId }));
      await client.send(new DisableKeyCommand({ KeyId: alias }));
      return {};
    },
    aws: { error: "NotFoundException" },
  },
];

const CIPHERTEXT_AND_NAME_CHECKS: Check[] = [
  {
    name: "CreateAlias of a name without the alias/ prefix is refused",
    run: async (client) => {
      await client.send(new CreateAliasCommand({ AliasName: "paysync-parity", TargetKeyId: (await createKey(client)).KeyId }));
      return {};
    },
    aws: { error: "ValidationException" },
  },
  {
    name: "Decrypt naming another key than the ciphertext's is refused",
    run: async (client) => {
      const blob = await sealed(client, (await createKey(client)).KeyId);
      await client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: (await createKey(client)).KeyId, EncryptionContext: CONTEXT }));
      return {};
    },
    aws: { error: "IncorrectKeyException" },
    moto: { error: "AccessDeniedException", differs: "it answers AccessDeniedException" },
  },
  {
    name: "Decrypt with another encryption context is refused",
    run: async (client) => {
      const blob = await sealed(client, (await createKey(client)).KeyId);
      await client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { userKey: "uk_2" } }));
      return {};
    },
    aws: { error: "InvalidCiphertextException" },
  },
  {
    name: "ReEncrypt with a SourceKeyId naming another key is refused",
    run: async (client) => {
      const source = (await createKey(client)).KeyId;
      const other = (await createKey(client)).KeyId;
      await client.send(new ReEncryptCommand({ CiphertextBlob: await sealed(client, source), SourceKeyId: other, SourceEncryptionContext: CONTEXT, DestinationKeyId: other }));
      return {};
    },
    aws: { error: "IncorrectKeyException" },
    moto: { answer: {}, differs: "it ignores SourceKeyId" },
  },
  {
    name: "a key ARN naming another Region is not found",
    run: async (client) => {
      const { Arn } = await createKey(client);
      await sealed(client, Arn.replace(/:kms:[a-z0-9-]+:/, ":kms:eu-west-1:"));
      return {};
    },
    aws: { error: "NotFoundException" },
    moto: { answer: {}, differs: "it finds the key whatever Region the ARN names" },
  },
  {
    name: "a key ARN naming another account is not found",
    run: async (client) => {
      const { Arn } = await createKey(client);
      await sealed(client, Arn.replace(/:\d{12}:/, ":111122223333:"));
      return {};
    },
    aws: { error: "NotFoundException" },
    moto: { answer: {}, differs: "it finds the key whatever account the ARN names" },
  },
  {
    name: "GenerateRandom of 0 bytes is refused",
    run: async (client) => {
      await client.send(new GenerateRandomCommand({ NumberOfBytes: 0 }));
      return {};
    },
    aws: { error: "ValidationException" },
    moto: { answer: {}, differs: "it answers 0 bytes" },
  },
];

const CHECKS = [...SIGNING_CHECKS, ...STATE_CHECKS, ...CIPHERTEXT_AND_NAME_CHECKS];

async function observe(run: () => Promise<Record<string, unknown>>): Promise<Outcome> {
  try {
    return { answer: await run() };
  } catch (error) {
    return { error: error instanceof Error ? error.name : String(error) };
  }
}

describe("the local KMS endpoint answers as AWS KMS does", () => {
  let local: KmsUnderTest;

  beforeAll(async () => {
    local = await startLocalKmsForTest();
  });

  afterAll(async () => {
    await local.stop();
  });

  for (const { name, run, aws } of CHECKS) {
    it(name, async () => {
      // Act
      const outcome = await observe(() => run(local.client));

      // Assess
      expect(outcome).toMatchObject(aws);
    });
  }
});

describe.skipIf(!motoServerPath)(`moto_server answers the same requests${motoServerPath ? "" : " (skipped: moto_server is not on PATH)"}`, () => {
  let moto: KmsUnderTest;

  beforeAll(async () => {
    moto = await startMotoServer();
  });

  afterAll(async () => {
    await moto?.stop();
  });

  for (const { name, run, aws, moto: differs } of CHECKS) {
    it(differs ? `${name}, except that moto differs: ${differs.differs}` : name, async () => {
      // Prepare
      const { differs: _why, ...expected } = differs ?? { differs: "", ...aws };

      // Act
      const outcome = await observe(() => run(moto.client));

      // Assess
      expect(outcome).toMatchObject(expected);
    });
  }
});
