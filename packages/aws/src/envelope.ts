/**
 * KMS envelope encryption of payloads (entities, snapshots, queued ops) — SPEC.md §5.
 *
 * A payload is serialised to JSON, gzip-compressed, then encrypted with the AWS Encryption SDK
 * under the unsigned committing suite (AES-256-GCM, HKDF-SHA512, key commitment; no ECDSA
 * signature to compute or verify) and a data key that KMS wraps under `keyArn`. The encryption
 * context `{ userKey, entityType }` is authenticated by both the message and KMS, and is checked
 * on decrypt against what the caller expects: the SDK itself does not compare it to anything.
 *
 * ## Data-key cache
 * A caching materials manager keeps data keys in memory for `cacheMaxAgeMs` (5 minutes) and at
 * most `maxMessagesPerKey` messages (10,000). Its cache key includes the whole encryption
 * context, so a data key is reused only for one `(userKey, entityType)` pair: it is never shared
 * between users, and one leaked data key exposes at most one user's payloads of one entity type
 * from one five-minute window. The price is one `GenerateDataKey` for the first write, and one
 * `Decrypt` for the first read of a given wrapped key, per pair, per warm instance, per five
 * minutes; every further write or read of that pair in the window makes no KMS call. Messages
 * written in one window share one wrapped data key, so reading back a batch costs one `Decrypt`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  KmsKeyringNode,
  NodeCachingMaterialsManager,
  type KmsNodeClientSupplier,
} from "@aws-crypto/client-node";
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { DependencyError, PaysyncError } from "@paysync/core/errors";

export interface PayloadContext {
  /** The pseudonymous user key (never a raw user id). */
  userKey: string;
  entityType: string;
}

export interface PayloadCipherOptions {
  /** A key ARN (not an alias): wrapped data keys name the key ARN, and decrypt only accepts that key. */
  keyArn: string;
  /** Defaults to the standard client: region from the ARN; endpoint and credentials from the environment. */
  kmsClient?: KMSClient;
  /** How long a data key is reused, in milliseconds. */
  cacheMaxAgeMs?: number;
  /** How many messages one data key may encrypt before a new one is generated. */
  maxMessagesPerKey?: number;
  /** Cache entries (encrypt and decrypt materials together). */
  cacheCapacity?: number;
  /** Upper bound on a decompressed payload, against decompression bombs. */
  maxPlaintextBytes?: number;
}

/** A stored payload's encryption context is not the one its reader expected: never return it. */
export class EncryptionContextMismatch extends PaysyncError {
  constructor(readonly expected: PayloadContext) {
    super("internal_error", `The payload is not bound to the expected context (entityType ${expected.entityType})`);
  }
}

/** The ciphertext is malformed, tampered with, or was not made with this key. */
export class CiphertextRejected extends PaysyncError {
  constructor(cause: unknown) {
    super("internal_error", "The payload ciphertext was rejected");
    this.cause = cause;
  }
}

const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
const CACHE_PARTITION = "paysync-payloads-v1";
const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[\w-]+$/;
/** KMS answers that blame the ciphertext rather than KMS being unavailable. */
const CIPHERTEXT_FAULTS = new Set(["InvalidCiphertextException", "IncorrectKeyException", "NotFoundException"]);

const { encrypt, decrypt } = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  maxEncryptedDataKeys: 1,
});

/** KMS failures seen during the current encrypt/decrypt, to tell an outage from a bad ciphertext. */
const kmsFailures = new AsyncLocalStorage<unknown[]>();

/**
 * Encrypts and decrypts JSON payloads bound to a user key and entity type.
 *
 * @example
 * const cipher = new PayloadCipher({ keyArn });
 * const stored = await cipher.encrypt({ mood: 3 }, { userKey, entityType: "mood_entry" });
 * const entry = await cipher.decrypt(stored, { userKey, entityType: "mood_entry" });
 */
export class PayloadCipher {
  readonly #materials: NodeCachingMaterialsManager;
  readonly #maxPlaintextBytes: number;
  #kmsCalls = 0;

  constructor({
    keyArn,
    kmsClient,
    cacheMaxAgeMs = 5 * 60_000,
    maxMessagesPerKey = 10_000,
    cacheCapacity = 1_000,
    maxPlaintextBytes = 16 * 1024 * 1024,
  }: PayloadCipherOptions) {
    const region = KEY_ARN.exec(keyArn)?.[1];
    if (region === undefined) throw new Error(`PayloadCipher needs a KMS key ARN, got '${keyArn}'`);
    const keyring = new KmsKeyringNode({
      generatorKeyId: keyArn,
      clientProvider: this.#countingClient(kmsClient ?? new KMSClient({ region })),
    });
    this.#materials = new NodeCachingMaterialsManager({
      backingMaterials: keyring,
      cache: getLocalCryptographicMaterialsCache(cacheCapacity),
      partition: CACHE_PARTITION,
      maxAge: cacheMaxAgeMs,
      maxMessagesEncrypted: maxMessagesPerKey,
    });
    this.#maxPlaintextBytes = maxPlaintextBytes;
  }

  /** JSON → gzip → encrypt → base64. */
  async encrypt(payload: unknown, context: PayloadContext): Promise<string> {
    const json = JSON.stringify(payload);
    if (json === undefined) throw new TypeError("The payload is not JSON-serialisable");
    const compressed = gzipSync(json);
    const { result } = await this.#withKmsFailures(
      () => encrypt(this.#materials, compressed, { suiteId: SUITE, encryptionContext: { ...bindingOf(context) } }),
      (failures) => (failures.length > 0 ? new DependencyError("KMS could not provide a data key") : undefined),
    );
    return result.toString("base64");
  }

  /** base64 → decrypt → check the context → gunzip → JSON. */
  async decrypt(ciphertext: string, expected: PayloadContext): Promise<unknown> {
    const { plaintext, messageHeader } = await this.#withKmsFailures(
      () => decrypt(this.#materials, Buffer.from(ciphertext, "base64")),
      (failures, error) => failures.some((failure) => !CIPHERTEXT_FAULTS.has(nameOf(failure)))
        ? new DependencyError("KMS could not unwrap the data key")
        : new CiphertextRejected(error),
    );
    if (!sameBinding(messageHeader.encryptionContext, bindingOf(expected))) throw new EncryptionContextMismatch(expected);
    try {
      return JSON.parse(gunzipSync(plaintext, { maxOutputLength: this.#maxPlaintextBytes }).toString("utf8"));
    } catch (error) {
      throw new CiphertextRejected(error);
    }
  }

  /** KMS requests made by this cipher so far (for tests and benchmarks). */
  kmsCallCount(): number {
    return this.#kmsCalls;
  }

  /** The three calls the keyring makes, sent through one standard client and counted. */
  #countingClient(kms: KMSClient): KmsNodeClientSupplier {
    const counted = async <T>(call: () => Promise<T>): Promise<T> => {
      this.#kmsCalls += 1;
      try {
        return await call();
      } catch (error) {
        kmsFailures.getStore()?.push(error);
        throw error;
      }
    };
    const client = {
      generateDataKey: (input: GenerateDataKeyCommand["input"]) => counted(() => kms.send(new GenerateDataKeyCommand(input))),
      encrypt: (input: EncryptCommand["input"]) => counted(() => kms.send(new EncryptCommand(input))),
      decrypt: (input: DecryptCommand["input"]) => counted(() => kms.send(new DecryptCommand(input))),
    };
    return () => client;
  }

  async #withKmsFailures<T>(operation: () => Promise<T>, classify: (failures: unknown[], error: unknown) => Error | undefined): Promise<T> {
    const failures: unknown[] = [];
    try {
      return await kmsFailures.run(failures, operation);
    } catch (error) {
      throw classify(failures, error) ?? error;
    }
  }
}

function bindingOf({ userKey, entityType }: PayloadContext): Record<keyof PayloadContext, string> {
  if (!userKey || !entityType) throw new TypeError("userKey and entityType are required");
  return { userKey, entityType };
}

/** Exactly the expected keys and values: nothing missing, nothing extra. */
function sameBinding(actual: Readonly<Record<string, string>>, expected: Record<string, string>): boolean {
  const actualKeys = Object.keys(actual);
  return actualKeys.length === Object.keys(expected).length && actualKeys.every((key) => actual[key] === expected[key]);
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : "";
}
