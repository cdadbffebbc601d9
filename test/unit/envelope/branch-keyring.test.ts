import { randomBytes } from "node:crypto";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  EncryptedDataKey,
  NodeAlgorithmSuite,
  NodeDecryptionMaterial,
  NodeEncryptionMaterial,
  unwrapDataKey,
} from "@aws-crypto/client-node";
import { describe, expect, it } from "vitest";
import {
  BRANCH_KEY_PROVIDER_ID,
  BranchKeyring,
  BranchKeyRejected,
  BranchKeyUnavailable,
  type BranchKeyKms,
} from "@paysync/aws/crypto/branch-keyring";

const SUITE_ID = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
const SUITE = new NodeAlgorithmSuite(SUITE_ID);
const ALICE = { userKey: "uk_alice", entityType: "journal_entry" };
const BOB = { userKey: "uk_bob", entityType: "journal_entry" };
const { encrypt, decrypt } = buildClient({ commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, maxEncryptedDataKeys: 1 });

/** An in-memory stand-in for KMS: it wraps branch keys by remembering them, and counts its calls. */
function fakeKms() {
  const wrappedKeys = new Map<string, Uint8Array>();
  const handedOut: Uint8Array[] = [];
  const calls = { generate: 0, unwrap: 0 };
  let failure: "unavailable" | undefined;
  const kms: BranchKeyKms = {
    async generate() {
      calls.generate += 1;
      await Promise.resolve();
      if (failure) throw new BranchKeyUnavailable("KMS is down");
      const plaintext = randomBytes(32);
      const wrapped = randomBytes(48);
      wrappedKeys.set(wrapped.toString("hex"), Buffer.from(plaintext));
      handedOut.push(plaintext);
      return { plaintext, wrapped };
    },
    async unwrap(wrapped) {
      calls.unwrap += 1;
      await Promise.resolve();
      if (failure) throw new BranchKeyUnavailable("KMS is down");
      const plaintext = wrappedKeys.get(Buffer.from(wrapped).toString("hex"));
      if (plaintext === undefined) throw new BranchKeyRejected("not a wrapped key of this KMS");
      const copy = Buffer.from(plaintext);
      handedOut.push(copy);
      return copy;
    },
  };
  return { kms, calls, handedOut, fail: (mode: "unavailable" | undefined) => (failure = mode) };
}

function keyringOn(kms: BranchKeyKms, options: { maxAgeMs?: number; maxMessagesPerKey?: number; capacity?: number; clock?: { now: number } } = {}) {
  const clock = options.clock ?? { now: 0 };
  return new BranchKeyring({
    kms,
    maxAgeMs: options.maxAgeMs ?? 300_000,
    maxMessagesPerKey: options.maxMessagesPerKey ?? 10_000,
    capacity: options.capacity ?? 1_000,
    now: () => clock.now,
  });
}

async function seal(keyring: BranchKeyring, context: Record<string, string>, text = "hello"): Promise<Buffer> {
  const { result } = await encrypt(keyring, Buffer.from(text), { suiteId: SUITE_ID, encryptionContext: context });
  return result;
}

async function open(keyring: BranchKeyring, message: Buffer): Promise<string> {
  return (await decrypt(keyring, message)).plaintext.toString();
}

/** One encrypted data key made by `keyring` for `context`, and the data key it wraps. */
async function wrappedDataKey(keyring: BranchKeyring, context: Record<string, string>) {
  const material = new NodeEncryptionMaterial(SUITE, context);
  await keyring.onEncrypt(material);
  const [edk] = material.encryptedDataKeys;
  if (edk === undefined) throw new Error("no EDK");
  return { edk, dataKey: Buffer.from(unwrapDataKey(material.getUnencryptedDataKey())) };
}

async function unwrapWith(keyring: BranchKeyring, context: Record<string, string>, edk: EncryptedDataKey): Promise<Buffer | undefined> {
  const material = new NodeDecryptionMaterial(SUITE, context);
  await keyring.onDecrypt(material, [edk]);
  return material.hasValidKey() ? Buffer.from(unwrapDataKey(material.getUnencryptedDataKey())) : undefined;
}

describe("the branch keyring", () => {
  it("a message comes back through another keyring instance, which unwraps the branch key once", async () => {
    // Prepare
    const { kms, calls } = fakeKms();
    const writer = keyringOn(kms);
    const messages = await Promise.all(Array.from({ length: 20 }, (_, i) => seal(writer, { userKey: `uk_${i}`, entityType: "mood_entry" }, `m${i}`)));
    const reader = keyringOn(kms);

    // Act
    const texts = await Promise.all(messages.map((message) => open(reader, message)));

    // Assess
    expect(texts).toStrictEqual(messages.map((_, i) => `m${i}`));
    expect(calls).toStrictEqual({ generate: 1, unwrap: 1 });
  });

  it("the writer reads its own messages without asking KMS", async () => {
    // Prepare
    const { kms, calls } = fakeKms();
    const keyring = keyringOn(kms);

    // Act
    const text = await open(keyring, await seal(keyring, ALICE));

    // Assess
    expect(text).toBe("hello");
    expect(calls).toStrictEqual({ generate: 1, unwrap: 0 });
  });

  it.each([
    { name: "another user's", context: BOB },
    { name: "another entity type's", context: { ...ALICE, entityType: "safety_plan" } },
    { name: "a context with an extra pair", context: { ...ALICE, extra: "x" } },
    { name: "an empty", context: {} },
  ])("a wrapped data key does not unwrap under $name context", async ({ context }) => {
    // Prepare
    const { kms } = fakeKms();
    const keyring = keyringOn(kms);
    const { edk, dataKey } = await wrappedDataKey(keyring, ALICE);

    // Act
    const underOwnContext = await unwrapWith(keyringOn(kms), ALICE, edk);
    const underOtherContext = await unwrapWith(keyringOn(kms), context, edk);

    // Assess
    expect(underOwnContext?.equals(dataKey)).toBe(true);
    expect(underOtherContext).toBeUndefined();
  });

  it("every message gets its own data key", async () => {
    // Prepare
    const { kms } = fakeKms();
    const keyring = keyringOn(kms);

    // Act
    const keys = await Promise.all(Array.from({ length: 50 }, () => wrappedDataKey(keyring, ALICE)));

    // Assess
    expect(new Set(keys.map(({ dataKey }) => dataKey.toString("hex"))).size).toBe(50);
    expect(new Set(keys.map(({ edk }) => edk.providerId))).toStrictEqual(new Set([BRANCH_KEY_PROVIDER_ID]));
  });

  it.each([
    { name: "another provider's", edk: (edk: EncryptedDataKey) => new EncryptedDataKey({ ...edk, providerId: "aws-kms" }) },
    { name: "a providerInfo too short to name a branch key", edk: (edk: EncryptedDataKey) => new EncryptedDataKey({ providerId: edk.providerId, providerInfo: "short", encryptedDataKey: edk.encryptedDataKey }) },
    {
      name: "a branch key name that is not base64",
      edk: (edk: EncryptedDataKey) => {
        const rawInfo = Buffer.from(edk.rawInfo ?? []);
        rawInfo[3] = "*".charCodeAt(0);
        return new EncryptedDataKey({ ...edk, rawInfo, providerInfo: rawInfo.toString("latin1") });
      },
    },
  ])("$name EDK is skipped without asking KMS", async ({ edk }) => {
    // Prepare
    const { kms, calls } = fakeKms();
    const { edk: genuine } = await wrappedDataKey(keyringOn(kms), ALICE);

    // Act
    const unwrapped = await unwrapWith(keyringOn(kms), ALICE, edk(genuine));

    // Assess
    expect(unwrapped).toBeUndefined();
    expect(calls.unwrap).toBe(0);
  });

  it("a branch key KMS rejects leaves the message unreadable; a KMS outage throws", async () => {
    // Prepare
    const { kms, fail } = fakeKms();
    const { edk } = await wrappedDataKey(keyringOn(kms), ALICE);
    const { kms: otherKms } = fakeKms();

    // Act
    const rejected = await unwrapWith(keyringOn(otherKms), ALICE, edk);
    fail("unavailable");
    const outage = unwrapWith(keyringOn(kms), ALICE, edk);

    // Assess
    expect(rejected).toBeUndefined();
    await expect(outage).rejects.toBeInstanceOf(BranchKeyUnavailable);
  });

  it("a KMS outage surfaces through the SDK's encrypt and decrypt, and is not cached", async () => {
    // Prepare
    const { kms, calls, fail } = fakeKms();
    const message = await seal(keyringOn(kms), ALICE);
    const keyring = keyringOn(kms);
    fail("unavailable");

    // Act
    const writing = seal(keyring, ALICE);
    const reading = open(keyring, message);
    const failures = await Promise.allSettled([writing, reading]);
    fail(undefined);
    const text = await open(keyring, message);
    await seal(keyring, ALICE);

    // Assess
    for (const failure of failures) {
      expect(failure.status).toBe("rejected");
      const reason = failure.status === "rejected" ? (failure.reason as Error) : undefined;
      expect(reason instanceof BranchKeyUnavailable || reason?.cause instanceof BranchKeyUnavailable).toBe(true);
    }
    expect(text).toBe("hello");
    expect(calls).toStrictEqual({ generate: 3, unwrap: 2 });
  });

  it("a branch key encrypts at most maxMessagesPerKey messages and for at most maxAgeMs", async () => {
    // Prepare
    const { kms, calls } = fakeKms();
    const clock = { now: 1_000 };
    const keyring = keyringOn(kms, { maxAgeMs: 60_000, maxMessagesPerKey: 4, clock });

    // Act
    for (let i = 0; i < 4; i++) await wrappedDataKey(keyring, ALICE);
    const afterFour = calls.generate;
    await wrappedDataKey(keyring, ALICE);
    clock.now += 59_999;
    await wrappedDataKey(keyring, ALICE);
    const beforeExpiry = calls.generate;
    clock.now += 1;
    await wrappedDataKey(keyring, ALICE);

    // Assess
    expect(afterFour).toBe(1);
    expect(beforeExpiry).toBe(2);
    expect(calls.generate).toBe(3);
  });

  it("an unwrapped branch key is kept for maxAgeMs, and only the capacity most recently used are kept", async () => {
    // Prepare
    const { kms, calls } = fakeKms();
    const messages = [];
    for (let i = 0; i < 3; i++) messages.push(await seal(keyringOn(kms), ALICE, `m${i}`));
    const clock = { now: 0 };
    const reader = keyringOn(kms, { maxAgeMs: 10_000, capacity: 2, clock });
    const [first, second, third] = messages as [Buffer, Buffer, Buffer];

    // Act
    await open(reader, first);
    await open(reader, second);
    await open(reader, first); // cached; now the most recently used
    const warm = calls.unwrap;
    await open(reader, third); // evicts the second
    await open(reader, first); // still cached
    await open(reader, second); // unwrapped again
    const afterEviction = calls.unwrap;
    clock.now = 10_000;
    await open(reader, second); // expired

    // Assess
    expect(warm).toBe(2);
    expect(afterEviction).toBe(4);
    expect(calls.unwrap).toBe(5);
  });

  it("concurrent first writes and reads share one KMS request", async () => {
    // Prepare
    const { kms, calls } = fakeKms();
    const writer = keyringOn(kms);
    const reader = keyringOn(kms);

    // Act
    const messages = await Promise.all(Array.from({ length: 30 }, (_, i) => seal(writer, ALICE, `m${i}`)));
    await Promise.all(messages.map((message) => open(reader, message)));

    // Assess
    expect(calls).toStrictEqual({ generate: 1, unwrap: 1 });
  });

  it("the plaintext branch keys KMS returned are zeroed once the keyring has its own copy", async () => {
    // Prepare
    const { kms, handedOut } = fakeKms();
    const message = await seal(keyringOn(kms), ALICE);

    // Act
    await open(keyringOn(kms), message);

    // Assess
    expect(handedOut).toHaveLength(2);
    for (const key of handedOut) expect(key.every((byte) => byte === 0)).toBe(true);
  });

  it.each([
    ["a zero age", { maxAgeMs: 0 }],
    ["a zero message count", { maxMessagesPerKey: 0 }],
    ["a zero capacity", { capacity: 0 }],
    ["an endless age", { maxAgeMs: Infinity }],
    ["an endless message count", { maxMessagesPerKey: Infinity }],
    ["an endless capacity", { capacity: Infinity }],
    ["a NaN age", { maxAgeMs: Number.NaN }],
    ["a fractional message count", { maxMessagesPerKey: 1.5 }],
    ["more messages than AES-GCM allows one key with random IVs", { maxMessagesPerKey: 2 ** 32 + 1 }],
    ["an age beyond a day", { maxAgeMs: 24 * 60 * 60_000 + 1 }],
  ])("refuses %s", (_case, options) => {
    // Prepare
    const { kms } = fakeKms();

    // Assess
    expect(() => keyringOn(kms, options)).toThrow(RangeError);
  });
});
