import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  KMSClient,
  ListAliasesCommand,
} from "@aws-sdk/client-kms";
import { AlgorithmSuiteIdentifier, buildClient, CommitmentPolicy, KmsKeyringNode } from "@aws-crypto/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CiphertextRejected, EncryptionContextMismatch, PAYLOAD_CONTEXT_SCHEMA, PayloadCipher, type PayloadContext } from "@paysync/aws/crypto/envelope";
import { DependencyError } from "@paysync/core/errors";
import { startLocalKms, type LocalKms } from "@paysync/local/kms-server";
import { motoServerPath, startMotoServer } from "../helpers/kms.js";

const REGION = "us-east-1";
const CONTEXT: PayloadContext = { userKey: "uk_3f9a1c0d", entityType: "journal_entry" };
const MARKER = "PLAINTEXT-MARKER-7c41e2";

function clientFor(endpoint: string, maxAttempts = 3): KMSClient {
  return new KMSClient({ endpoint, region: REGION, maxAttempts, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
}

async function createKey(client: KMSClient, description = "paysync test key"): Promise<{ id: string; arn: string }> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: description }));
  if (!KeyMetadata?.KeyId || !KeyMetadata.Arn) throw new Error("CreateKey returned no key");
  return { id: KeyMetadata.KeyId, arn: KeyMetadata.Arn };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Flips one bit of the decoded message at `position` (negative counts from the end). */
function tamper(ciphertextB64: string, position: number): string {
  const bytes = Buffer.from(ciphertextB64, "base64");
  const index = position < 0 ? bytes.length + position : position;
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString("base64");
}

/** Where the parts of a message's header start (message format version 2, one encrypted data key). */
function headerParts(ciphertextB64: string) {
  const bytes = Buffer.from(ciphertextB64, "base64");
  let at = 1 + 2 + 32; // version, suite id, message id
  const encryptionContext = at + 2;
  at = encryptionContext + bytes.readUInt16BE(at);
  if (bytes.readUInt16BE(at) !== 1) throw new Error("expected one encrypted data key");
  at += 2;
  const field = () => {
    const start = at + 2;
    const length = bytes.readUInt16BE(at);
    at = start + length;
    return { start, bytes: bytes.subarray(start, start + length) };
  };
  const providerId = field();
  const providerInfo = field();
  const wrappedDataKey = field();
  const commitment = at + 1 + 4; // after content type and frame length
  return {
    encryptionContext,
    providerId: providerId.start,
    providerIdText: providerId.bytes.toString("latin1"),
    wrappedBranchKey: providerInfo.start,
    branchKeyName: providerInfo.bytes.subarray(0, -20).toString("latin1"),
    dataKeyIv: providerInfo.start + providerInfo.bytes.length - 12,
    wrappedDataKey: wrappedDataKey.start,
    wrappedDataKeyBytes: wrappedDataKey.bytes,
    commitment,
    headerTag: commitment + 32,
  };
}

/** The encryption context serialised in a message's header: a count, then length-prefixed keys and values. */
function contextOf(ciphertextB64: string): Record<string, string> {
  const bytes = Buffer.from(ciphertextB64, "base64");
  let at = headerParts(ciphertextB64).encryptionContext;
  const text = () => {
    const length = bytes.readUInt16BE(at);
    const value = bytes.subarray(at + 2, at + 2 + length).toString("utf8");
    at += 2 + length;
    return value;
  };
  const count = bytes.readUInt16BE(at);
  at += 2;
  return Object.fromEntries(Array.from({ length: count }, () => [text(), text()]));
}

const ENTITY_TYPES = ["journal_entry", "mood_entry", "safety_plan", "checkin", "snapshot"];
/** 100 users × 5 entity types, each op a different pair from the last. */
const spreadContext = (i: number): PayloadContext => ({ userKey: `uk_${String(i % 100).padStart(8, "0")}`, entityType: ENTITY_TYPES[Math.floor(i / 100) % ENTITY_TYPES.length] ?? "journal_entry" });

const PAYLOADS: Array<{ name: string; payload: unknown }> = [
  { name: "a small object", payload: { mood: 3, note: "slept well" } },
  { name: "unicode text", payload: { note: "ça va — 今日は 🌧️ → 🌤️" } },
  { name: "a bare string", payload: "just a string" },
  { name: "null", payload: null },
  { name: "nested arrays", payload: { answers: [0, 1, 2, 3, 2, 1, 0, 0, 1], meta: { instrument: "PHQ-9", tags: [[1], [2, [3]]] } } },
  { name: "a 200 KB snapshot spanning many frames", payload: { entries: Array.from({ length: 2_000 }, (_, i) => ({ i, text: `entry ${i} `.repeat(10) })) } },
];

describe("PayloadCipher on the local KMS endpoint", () => {
  let directory: string;
  let kms: LocalKms;
  let client: KMSClient;
  let keyArn: string;
  let cipher: PayloadCipher;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "paysync-kms-"));
    kms = await startLocalKms({ port: 0, host: "127.0.0.1", stateFile: join(directory, "kms.json") });
    client = clientFor(kms.endpoint);
    keyArn = (await createKey(client)).arn;
    cipher = new PayloadCipher({ keyArn, kmsClient: client });
  });

  afterAll(async () => {
    client.destroy();
    await kms.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each(PAYLOADS)("$name comes back unchanged", async ({ payload }) => {
    // Prepare
    const stored = await cipher.encrypt(payload, CONTEXT);

    // Act
    const decrypted = await cipher.decrypt(stored, CONTEXT);

    // Assess
    expect(decrypted).toStrictEqual(payload);
  });

  it("the ciphertext carries no plaintext bytes, compressed or not", async () => {
    // Prepare
    const payload = { note: `${MARKER} ${MARKER} ${MARKER}`, mood: 4 };
    const json = JSON.stringify(payload);
    const deflated = gzipSync(json).subarray(10, -8); // the deflate stream, without gzip header and trailer

    // Act
    const bytes = Buffer.from(await cipher.encrypt(payload, CONTEXT), "base64");

    // Assess
    expect(bytes.includes(MARKER)).toBe(false);
    expect(bytes.includes(json)).toBe(false);
    expect(bytes.includes(deflated.subarray(0, 16))).toBe(false);
  });

  it.each([
    { name: "another user's key", expected: { ...CONTEXT, userKey: "uk_00000000" } },
    { name: "another entity type", expected: { ...CONTEXT, entityType: "safety_plan" } },
    { name: "both changed", expected: { userKey: "uk_00000000", entityType: "safety_plan" } },
  ])("reading a payload with $name is refused", async ({ expected }) => {
    // Prepare
    const stored = await cipher.encrypt({ secret: MARKER }, CONTEXT);

    // Act
    const reading = cipher.decrypt(stored, expected);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(EncryptionContextMismatch);
  });

  describe("the binding to one record", () => {
    const entityA: PayloadContext = { ...CONTEXT, entityId: "entry-a" };
    const entityB: PayloadContext = { ...CONTEXT, entityId: "entry-b" };

    it("a new write names the entity and the payload schema in its context", async () => {
      // Prepare
      const stored = await cipher.encrypt({ secret: MARKER }, entityA);

      // Act
      const context = contextOf(stored);

      // Assess
      expect(context).toStrictEqual({ ...entityA, schema: PAYLOAD_CONTEXT_SCHEMA });
    });

    it("a ciphertext moved onto another entity of the same user is refused", async () => {
      // Prepare
      const stored = await cipher.encrypt({ secret: MARKER }, entityA);

      // Act
      const reading = cipher.decrypt(stored, entityB);

      // Assess
      await expect(reading).rejects.toBeInstanceOf(EncryptionContextMismatch);
      await expect(cipher.decrypt(stored, entityA)).resolves.toStrictEqual({ secret: MARKER });
    });

    it("a ciphertext of another record is refused from its header: no KMS call, no plaintext", async () => {
      // Prepare: a fresh reader (another container), which would have to ask KMS for the branch key
      const stored = await cipher.encrypt({ secret: MARKER }, entityA);
      const reader = new PayloadCipher({ keyArn, kmsClient: client });

      // Act
      const reading = reader.decrypt(stored, entityB);

      // Assess
      await expect(reading).rejects.toBeInstanceOf(EncryptionContextMismatch);
      expect(reader.kmsCallCount()).toBe(0);
      await expect(reader.decrypt(stored, entityA)).resolves.toStrictEqual({ secret: MARKER });
      expect(reader.kmsCallCount()).toBe(1);
    });

    it("a ciphertext written before the entity was bound still decrypts for its user and type", async () => {
      // Prepare: the legacy binding, { userKey, entityType } only
      const legacy = await cipher.encrypt({ secret: MARKER }, CONTEXT);

      // Act
      const decrypted = await cipher.decrypt(legacy, entityA);

      // Assess
      expect(decrypted).toStrictEqual({ secret: MARKER });
      await expect(cipher.decrypt(legacy, { ...entityA, userKey: "uk_00000000" })).rejects.toBeInstanceOf(EncryptionContextMismatch);
    });

    it("once the migration is over, a legacy ciphertext is refused", async () => {
      // Prepare
      const legacy = await cipher.encrypt({ secret: MARKER }, CONTEXT);
      const strict = new PayloadCipher({ keyArn, kmsClient: client, acceptLegacyContext: false });

      // Act
      const reading = strict.decrypt(legacy, entityA);

      // Assess
      await expect(reading).rejects.toBeInstanceOf(EncryptionContextMismatch);
      await expect(strict.decrypt(await cipher.encrypt({ secret: MARKER }, entityA), entityA)).resolves.toStrictEqual({ secret: MARKER });
    });
  });

  it.each([
    { name: "the format version", position: () => 0 },
    { name: "the message id", position: () => 10 },
    // A changed context is no longer the reader's: refused from the header, before any unwrap.
    { name: "the header's encryption context", position: (stored: string) => headerParts(stored).encryptionContext + 20, refusal: EncryptionContextMismatch },
    { name: "the provider id of the data key", position: (stored: string) => headerParts(stored).providerId + 3 },
    { name: "the KMS-wrapped branch key (its key id)", position: (stored: string) => headerParts(stored).wrappedBranchKey + 4 },
    { name: "the KMS-wrapped branch key (its ciphertext)", position: (stored: string) => headerParts(stored).dataKeyIv - 30 },
    { name: "the IV of the wrapped data key", position: (stored: string) => headerParts(stored).dataKeyIv + 5 },
    { name: "the wrapped data key", position: (stored: string) => headerParts(stored).wrappedDataKey + 7 },
    { name: "the wrapped data key's tag", position: (stored: string) => headerParts(stored).wrappedDataKey + 40 },
    { name: "the key commitment", position: (stored: string) => headerParts(stored).commitment + 9 },
    { name: "the header's authentication tag", position: (stored: string) => headerParts(stored).headerTag + 2 },
    { name: "the body", position: () => -60 },
    { name: "the last authentication tag", position: () => -1 },
  ] as { name: string; position: (stored: string) => number; refusal?: typeof CiphertextRejected | typeof EncryptionContextMismatch }[])("a ciphertext tampered in $name is rejected", async ({ position, refusal = CiphertextRejected }) => {
    // Prepare
    const stored = await cipher.encrypt({ secret: MARKER, padding: "x".repeat(200) }, CONTEXT);
    const reader = new PayloadCipher({ keyArn, kmsClient: client });

    // Act
    const reading = reader.decrypt(tamper(stored, position(stored)), CONTEXT);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(refusal);
  });

  it("a truncated ciphertext is rejected", async () => {
    // Prepare
    const stored = Buffer.from(await cipher.encrypt({ secret: MARKER }, CONTEXT), "base64");

    // Act
    const reading = cipher.decrypt(stored.subarray(0, stored.length - 20).toString("base64"), CONTEXT);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(CiphertextRejected);
  });

  it("1,000 encryptions and decryptions across 100 users and 5 entity types make 1 KMS call cold and none warm", async () => {
    // Prepare
    const cached = new PayloadCipher({ keyArn, kmsClient: client });
    const payload = { note: "x".repeat(1_000) };

    // Act
    for (let i = 0; i < 1_000; i++) await cached.decrypt(await cached.encrypt(payload, spreadContext(i)), spreadContext(i));
    const cold = cached.kmsCallCount();
    for (let i = 0; i < 1_000; i++) await cached.decrypt(await cached.encrypt(payload, spreadContext(i)), spreadContext(i));
    const warm = cached.kmsCallCount() - cold;

    // Assess
    expect(cold).toBe(1);
    expect(warm).toBe(0);
  });

  it("another instance (another container) reads 1,000 messages of 100 users with 1 KMS Decrypt", async () => {
    // Prepare
    const writer = new PayloadCipher({ keyArn, kmsClient: client });
    const stored: string[] = [];
    for (let i = 0; i < 1_000; i++) stored.push(await writer.encrypt({ i }, spreadContext(i)));
    const reader = new PayloadCipher({ keyArn, kmsClient: client });

    // Act
    const decrypted = [];
    for (const [i, ciphertext] of stored.entries()) decrypted.push(await reader.decrypt(ciphertext, spreadContext(i)));

    // Assess
    expect(decrypted).toStrictEqual(stored.map((_, i) => ({ i })));
    expect(writer.kmsCallCount()).toBe(1);
    expect(reader.kmsCallCount()).toBe(1);
  });

  it("concurrent first uses share one KMS request, for writing and for reading", async () => {
    // Prepare
    const writer = new PayloadCipher({ keyArn, kmsClient: client });
    const reader = new PayloadCipher({ keyArn, kmsClient: client });

    // Act
    const stored = await Promise.all(Array.from({ length: 50 }, (_, i) => writer.encrypt({ i }, spreadContext(i))));
    const decrypted = await Promise.all(stored.map((ciphertext, i) => reader.decrypt(ciphertext, spreadContext(i))));

    // Assess
    expect(decrypted).toStrictEqual(stored.map((_, i) => ({ i })));
    expect(writer.kmsCallCount()).toBe(1);
    expect(reader.kmsCallCount()).toBe(1);
  });

  it("every message has its own data key, wrapped under the shared branch key", async () => {
    // Prepare
    const cached = new PayloadCipher({ keyArn, kmsClient: client });
    const users = ["uk_a", "uk_b", "uk_c"];

    // Act
    const stored: string[] = [];
    for (const userKey of users) {
      for (let i = 0; i < 5; i++) stored.push(await cached.encrypt({ i }, { ...CONTEXT, userKey }));
    }

    // Assess
    const parts = stored.map(headerParts);
    expect(new Set(parts.map((part) => part.providerIdText))).toStrictEqual(new Set(["paysync-branch"]));
    expect(new Set(parts.map((part) => part.branchKeyName)).size).toBe(1);
    expect(new Set(parts.map((part) => part.wrappedDataKeyBytes.toString("hex"))).size).toBe(stored.length);
    expect(cached.kmsCallCount()).toBe(1);
  });

  it("once a branch key has encrypted maxMessagesPerKey messages, a new one is generated", async () => {
    // Prepare
    const cached = new PayloadCipher({ keyArn, kmsClient: client, maxMessagesPerKey: 3 });

    // Act
    const stored: string[] = [];
    for (let i = 0; i < 7; i++) stored.push(await cached.encrypt({ i }, CONTEXT));

    // Assess
    expect(cached.kmsCallCount()).toBe(3);
    expect(new Set(stored.map((ciphertext) => headerParts(ciphertext).branchKeyName)).size).toBe(3);
  });

  it("once a branch key is cacheMaxAgeMs old, a new one is generated and a reader unwraps it again", async () => {
    // Prepare
    const writer = new PayloadCipher({ keyArn, kmsClient: client, cacheMaxAgeMs: 100 });
    const reader = new PayloadCipher({ keyArn, kmsClient: client, cacheMaxAgeMs: 100 });
    const first = await writer.encrypt({ n: 1 }, CONTEXT);
    await reader.decrypt(first, CONTEXT);

    // Act
    await new Promise((resolve) => setTimeout(resolve, 150));
    const second = await writer.encrypt({ n: 2 }, CONTEXT);
    await reader.decrypt(first, CONTEXT);

    // Assess
    expect(headerParts(second).branchKeyName).not.toBe(headerParts(first).branchKeyName);
    expect(writer.kmsCallCount()).toBe(2);
    expect(reader.kmsCallCount()).toBe(2);
  });

  it("a message of the former design (an aws-kms data key) is rejected clearly, without asking KMS", async () => {
    // Prepare
    const { encrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const keyring = new KmsKeyringNode({
      generatorKeyId: keyArn,
      clientProvider: () => ({
        generateDataKey: (input: any) => client.send(new GenerateDataKeyCommand(input)),
        encrypt: (input: any) => client.send(new EncryptCommand(input)),
        decrypt: (input: any) => client.send(new DecryptCommand(input)),
      }) as any,
    });
    const { result } = await encrypt(keyring, gzipSync(JSON.stringify({ secret: MARKER })), {
      suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
      encryptionContext: { ...CONTEXT },
    });
    const reader = new PayloadCipher({ keyArn, kmsClient: client });

    // Act
    const reading = reader.decrypt(result.toString("base64"), CONTEXT);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(CiphertextRejected);
    expect(reader.kmsCallCount()).toBe(0);
  });

  it("the default client finds the endpoint in AWS_ENDPOINT_URL_KMS", async () => {
    // Prepare
    vi.stubEnv("AWS_ENDPOINT_URL_KMS", kms.endpoint);
    vi.stubEnv("AWS_ACCESS_KEY_ID", "local");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "local");
    const fromEnvironment = new PayloadCipher({ keyArn });

    // Act
    const decrypted = await fromEnvironment.decrypt(await fromEnvironment.encrypt({ ok: true }, CONTEXT), CONTEXT);

    // Assess
    expect(decrypted).toStrictEqual({ ok: true });
    expect(fromEnvironment.kmsCallCount()).toBe(1); // GenerateDataKey: it reads its own branch key back from memory
  });

  it.each([
    { name: "encrypting", act: (reader: PayloadCipher, _stored: string) => reader.encrypt({ ok: true }, CONTEXT) },
    { name: "decrypting", act: (reader: PayloadCipher, stored: string) => reader.decrypt(stored, CONTEXT) },
  ])("$name while KMS is unreachable is a retryable dependency failure", async ({ act }) => {
    // Prepare
    const stored = await cipher.encrypt({ ok: true }, CONTEXT);
    const unreachable = clientFor(`http://127.0.0.1:${await freePort()}`, 1);
    const reader = new PayloadCipher({ keyArn, kmsClient: unreachable });

    // Act
    const attempt = act(reader, stored);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(DependencyError);
    unreachable.destroy();
  });

  it.each([
    { name: "encrypting", act: (reader: PayloadCipher, _stored: string) => reader.encrypt({ ok: true }, CONTEXT) },
    { name: "decrypting", act: (reader: PayloadCipher, stored: string) => reader.decrypt(stored, CONTEXT) },
  ])("$name under a key KMS does not know (deleted, a wrong ARN) is a dependency failure that alarms, not a rejected ciphertext", async ({ act }) => {
    // Prepare
    const stored = await cipher.encrypt({ ok: true }, CONTEXT);
    const unknownKey = keyArn.replace(/key\/[\w-]+$/, "key/00000000-0000-4000-8000-000000000000");
    const misconfigured = new PayloadCipher({ keyArn: unknownKey, kmsClient: client });

    // Act
    const attempt = act(misconfigured, stored);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(DependencyError);
    await expect(act(misconfigured, stored)).rejects.not.toBeInstanceOf(CiphertextRejected);
  });
});

describe("the local KMS endpoint keeps its keys across restarts", () => {
  it("a ciphertext written before a restart decrypts after it, with a fresh cipher", async () => {
    // Prepare
    const directory = mkdtempSync(join(tmpdir(), "paysync-kms-restart-"));
    const stateFile = join(directory, "kms.json");
    const first = await startLocalKms({ port: 0, host: "127.0.0.1", stateFile });
    const firstClient = clientFor(first.endpoint);
    const { arn } = await createKey(firstClient);
    const stored = await new PayloadCipher({ keyArn: arn, kmsClient: firstClient }).encrypt({ secret: MARKER }, CONTEXT);
    firstClient.destroy();
    await first.stop();

    // Act
    const second = await startLocalKms({ port: 0, host: "127.0.0.1", stateFile });
    const secondClient = clientFor(second.endpoint);
    const fresh = new PayloadCipher({ keyArn: arn, kmsClient: secondClient });
    const decrypted = await fresh.decrypt(stored, CONTEXT);
    secondClient.destroy();
    await second.stop();

    // Assess
    expect(decrypted).toStrictEqual({ secret: MARKER });
    expect(fresh.kmsCallCount()).toBe(1);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    rmSync(directory, { recursive: true, force: true });
  });
});

describe("the local KMS endpoint answers the raw KMS client as AWS does", () => {
  let directory: string;
  let kms: LocalKms;
  let client: KMSClient;
  let key: { id: string; arn: string };
  let otherKey: { id: string; arn: string };
  const alias = "alias/paysync-test";

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "paysync-kms-raw-"));
    kms = await startLocalKms({ port: 0, host: "127.0.0.1", stateFile: join(directory, "kms.json") });
    client = clientFor(kms.endpoint);
    key = await createKey(client);
    otherKey = await createKey(client, "another key");
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.id }));
  });

  afterAll(async () => {
    client.destroy();
    await kms.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it.each([
    { name: "key id", keyId: () => key.id },
    { name: "key ARN", keyId: () => key.arn },
    { name: "alias name", keyId: () => alias },
    { name: "alias ARN", keyId: () => `arn:aws:kms:${REGION}:000000000000:${alias}` },
  ])("a key named by its $name encrypts and decrypts", async ({ keyId }) => {
    // Prepare
    const context = { userKey: "uk_1", entityType: "mood_entry" };

    // Act
    const { CiphertextBlob, KeyId } = await client.send(new EncryptCommand({ KeyId: keyId(), Plaintext: Buffer.from(MARKER), EncryptionContext: context }));
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob, KeyId: keyId(), EncryptionContext: { entityType: "mood_entry", userKey: "uk_1" } }));

    // Assess
    expect(KeyId).toBe(key.arn);
    expect(Buffer.from(decrypted.Plaintext ?? []).toString()).toBe(MARKER);
    expect(decrypted.KeyId).toBe(key.arn);
  });

  it.each([
    { name: "KeySpec AES_256", input: { KeySpec: "AES_256" as const }, length: 32 },
    { name: "KeySpec AES_128", input: { KeySpec: "AES_128" as const }, length: 16 },
    { name: "NumberOfBytes 64", input: { NumberOfBytes: 64 }, length: 64 },
  ])("GenerateDataKey with $name returns a data key that Decrypt unwraps", async ({ input, length }) => {
    // Prepare
    const EncryptionContext = { userKey: "uk_1" };

    // Act
    const generated = await client.send(new GenerateDataKeyCommand({ KeyId: key.arn, EncryptionContext, ...input }));
    const unwrapped = await client.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext }));

    // Assess
    expect(generated.Plaintext?.length).toBe(length);
    expect(Buffer.from(unwrapped.Plaintext ?? []).equals(Buffer.from(generated.Plaintext ?? []))).toBe(true);
  });

  it("GenerateDataKeyWithoutPlaintext returns only the wrapped key", async () => {
    // Act
    const generated = await client.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: alias, KeySpec: "AES_256" }));
    const unwrapped = await client.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob }));

    // Assess
    expect(generated).not.toHaveProperty("Plaintext");
    expect(unwrapped.Plaintext?.length).toBe(32);
  });

  it("DescribeKey and ListAliases describe the key and its alias", async () => {
    // Act
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: alias }));
    const { Aliases } = await client.send(new ListAliasesCommand({ KeyId: key.id }));

    // Assess
    expect(KeyMetadata).toMatchObject({ KeyId: key.id, Arn: key.arn, Enabled: true, KeyState: "Enabled", KeyUsage: "ENCRYPT_DECRYPT" });
    expect(Aliases).toStrictEqual([{ AliasName: alias, AliasArn: `arn:aws:kms:${REGION}:000000000000:${alias}`, TargetKeyId: key.id }]);
  });

  async function sealed(context: Record<string, string> = { userKey: "uk_1" }): Promise<Uint8Array> {
    const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from(MARKER), EncryptionContext: context }));
    if (!CiphertextBlob) throw new Error("Encrypt returned no blob");
    return CiphertextBlob;
  }

  it.each([
    {
      name: "Decrypt naming another key is IncorrectKeyException",
      send: async () => client.send(new DecryptCommand({ CiphertextBlob: await sealed(), KeyId: otherKey.arn, EncryptionContext: { userKey: "uk_1" } })),
      error: "IncorrectKeyException",
    },
    {
      name: "Decrypt of a tampered blob is InvalidCiphertextException",
      send: async () => {
        const blob = Buffer.from(await sealed());
        blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 0x01;
        return client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { userKey: "uk_1" } }));
      },
      error: "InvalidCiphertextException",
    },
    {
      name: "Decrypt with another encryption context is InvalidCiphertextException",
      send: async () => client.send(new DecryptCommand({ CiphertextBlob: await sealed(), EncryptionContext: { userKey: "uk_2" } })),
      error: "InvalidCiphertextException",
    },
    {
      name: "Decrypt of random bytes is InvalidCiphertextException",
      send: async () => client.send(new DecryptCommand({ CiphertextBlob: Buffer.from("not a kms blob at all, not at all") })),
      error: "InvalidCiphertextException",
    },
    {
      name: "DescribeKey of an unknown key is NotFoundException",
      send: async () => client.send(new DescribeKeyCommand({ KeyId: "6f1c0000-0000-4000-8000-000000000000" })),
      error: "NotFoundException",
    },
    {
      name: "Encrypt under an unknown alias is NotFoundException",
      send: async () => client.send(new EncryptCommand({ KeyId: "alias/nobody", Plaintext: Buffer.from("x") })),
      error: "NotFoundException",
    },
    {
      name: "GenerateDataKey without KeySpec or NumberOfBytes is ValidationException",
      send: async () => client.send(new GenerateDataKeyCommand({ KeyId: key.id })),
      error: "ValidationException",
    },
    {
      name: "Encrypt of more than 4 KiB is ValidationException",
      send: async () => client.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.alloc(4097) })),
      error: "ValidationException",
    },
  ])("$name", async ({ send, error }) => {
    // Act
    const attempt = send();

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: error, $metadata: { httpStatusCode: 400 } });
  });
});

describe(`PayloadCipher on moto_server, an independent KMS emulator${motoServerPath ? "" : " (skipped: moto_server is not on PATH)"}`, () => {
  let moto: Awaited<ReturnType<typeof startMotoServer>> | undefined;
  let cipher: PayloadCipher;

  beforeAll(async () => {
    if (!motoServerPath) return;
    moto = await startMotoServer();
    cipher = new PayloadCipher({ keyArn: (await createKey(moto.client)).arn, kmsClient: moto.client });
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it.skipIf(!motoServerPath).each(PAYLOADS.slice(0, 3))("$name comes back unchanged", async ({ payload }) => {
    // Act
    const decrypted = await cipher.decrypt(await cipher.encrypt(payload, CONTEXT), CONTEXT);

    // Assess
    expect(decrypted).toStrictEqual(payload);
  });

  it.skipIf(!motoServerPath)("reading a payload with another user's key is refused", async () => {
    // Prepare
    const stored = await cipher.encrypt({ secret: MARKER }, CONTEXT);

    // Act
    const reading = cipher.decrypt(stored, { ...CONTEXT, userKey: "uk_00000000" });

    // Assess
    await expect(reading).rejects.toBeInstanceOf(EncryptionContextMismatch);
  });
});
