/**
 * KMS envelope encryption of payloads (entities, snapshots, queued ops) — SPEC.md §5.
 *
 * A payload is serialised to JSON, gzip-compressed, then encrypted with the AWS Encryption SDK
 * under the unsigned committing suite (AES-256-GCM, HKDF-SHA512, key commitment; no ECDSA
 * signature to compute or verify). The encryption context `{ userKey, entityType, entityId,
 * schema }` is authenticated by the message, binds its data key (below), and is checked on
 * decrypt against what the caller expects: the SDK itself does not compare it to anything. So a
 * ciphertext copied onto another record — another user's, or another entity of the same user —
 * is refused, not returned.
 *
 * ## Migration from `{ userKey, entityType }`
 * Messages written before the binding named the entity carry only `{ userKey, entityType }`.
 * Readers accept that legacy context (exactly those two keys, for the expected user and type)
 * while `acceptLegacyContext` is on; such a message can still be moved between entities of one
 * type of one user, which is why new writes always carry `entityId`. Once every stored payload
 * has been rewritten, turn it off (docs/SECURITY.md).
 *
 * ## Keys: a branch-key hierarchy (see branch-keyring.ts)
 * Every message has its own random data key. That data key is wrapped with AES-256-GCM under a
 * *branch key*, with the message's encryption context as additional authenticated data, so it
 * unwraps only for the same context. The branch key is a 32-byte key from KMS
 * `GenerateDataKey` under `keyArn` and the fixed KMS encryption context
 * `BRANCH_KEY_KMS_CONTEXT` (kms-context.ts); its KMS-wrapped form is written into each message,
 * so any instance allowed to call kms:Decrypt on `keyArn` with that context can read any
 * message — which the payload key's policy allows only the reading functions' roles.
 *
 * One branch key encrypts for `cacheMaxAgeMs` (5 minutes) or `maxMessagesPerKey` messages
 * (10,000), whichever comes first, for every user and entity type; unwrapped branch keys are kept
 * for decryption for the same age. A warm instance thus makes one `GenerateDataKey` per five
 * minutes, and one `Decrypt` per branch key written by another instance, whatever the number of
 * users: the crisis path never waits on KMS for a user's first write. The price, as with AWS's
 * Hierarchical keyring: a leaked branch key exposes every message it wrapped (all users, one
 * five-minute window of one writer), and KMS audit logs show branch keys, not users.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  KeyringNode,
  type EncryptedDataKey,
  type NodeDecryptionMaterial,
  type NodeEncryptionMaterial,
} from "@aws-crypto/client-node";
import { DecryptCommand, GenerateDataKeyCommand, KMSClient, type KMSClientConfig } from "@aws-sdk/client-kms";
import { DependencyError, PaysyncError } from "@paysync/core/errors";
import type { PayloadCipher as PayloadCipherPort, PayloadContext } from "@paysync/core/ports";
import { BranchKeyring, BranchKeyRejected, BranchKeyUnavailable, type BranchKeyKms } from "./branch-keyring.js";
import { BRANCH_KEY_KMS_CONTEXT } from "./kms-context.js";

export type { PayloadContext };

export interface PayloadCipherOptions {
  /** A key ARN (not an alias): branch keys are generated under it, and decrypt only accepts that key. */
  keyArn: string;
  /** Defaults to the standard client: region from the ARN; endpoint and credentials from the environment. */
  kmsClient?: KMSClient;
  /**
   * Client settings for the default client (the crisis path's tight timeouts and attempts);
   * ignored when `kmsClient` is given.
   */
  kmsClientConfig?: Omit<KMSClientConfig, "region">;
  /** How long a branch key encrypts, and stays unwrapped for decryption, in milliseconds. */
  cacheMaxAgeMs?: number;
  /** How many messages one branch key may encrypt before a new one is generated. */
  maxMessagesPerKey?: number;
  /** How many distinct unwrapped branch keys are kept for decryption. */
  cacheCapacity?: number;
  /** Upper bound on a decompressed payload, against decompression bombs. */
  maxPlaintextBytes?: number;
  /** Whether messages bound only to `{ userKey, entityType }` (written before `entityId` was bound) are still read. */
  acceptLegacyContext?: boolean;
}

/**
 * The schema tag of the encryption context of new writes: which binding (and payload encoding,
 * JSON → gzip) the message follows, so a later change of either is told apart from this one.
 */
export const PAYLOAD_CONTEXT_SCHEMA = "paysync.payload.v2";

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
const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[\w-]+$/;
/**
 * KMS answers that blame the ciphertext rather than KMS or our key. `NotFoundException` is not
 * one: it means the configured key is deleted or the ARN is wrong — a deployment fault that must
 * alarm as an outage (as it does on encrypt), not pass for a tampered payload.
 */
const CIPHERTEXT_FAULTS = new Set(["InvalidCiphertextException", "IncorrectKeyException"]);

const { encrypt, decrypt } = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  maxEncryptedDataKeys: 1,
});

/**
 * Encrypts and decrypts JSON payloads bound to a user key and entity type.
 *
 * @example
 * const cipher = new PayloadCipher({ keyArn });
 * const stored = await cipher.encrypt({ mood: 3 }, { userKey, entityType: "mood_entry", entityId });
 * const entry = await cipher.decrypt(stored, { userKey, entityType: "mood_entry", entityId });
 */
export class PayloadCipher implements PayloadCipherPort {
  readonly #keyring: BranchKeyring;
  readonly #maxPlaintextBytes: number;
  readonly #acceptLegacyContext: boolean;
  #kmsCalls = 0;

  constructor({
    keyArn,
    kmsClient,
    kmsClientConfig,
    cacheMaxAgeMs = 5 * 60_000,
    maxMessagesPerKey = 10_000,
    cacheCapacity = 1_000,
    maxPlaintextBytes = 16 * 1024 * 1024,
    acceptLegacyContext = true,
  }: PayloadCipherOptions) {
    const region = KEY_ARN.exec(keyArn)?.[1];
    if (region === undefined) throw new Error(`PayloadCipher needs a KMS key ARN, got '${keyArn}'`);
    this.#keyring = new BranchKeyring({
      kms: this.#branchKeyKms(kmsClient ?? new KMSClient({ ...kmsClientConfig, region }), keyArn),
      maxAgeMs: cacheMaxAgeMs,
      maxMessagesPerKey,
      capacity: cacheCapacity,
    });
    this.#maxPlaintextBytes = maxPlaintextBytes;
    this.#acceptLegacyContext = acceptLegacyContext;
  }

  /** JSON → gzip → encrypt → base64. */
  async encrypt(payload: unknown, context: PayloadContext): Promise<string> {
    const json = JSON.stringify(payload);
    if (json === undefined) throw new TypeError("The payload is not JSON-serialisable");
    const encryptionContext = { ...bindingOf(context) };
    const compressed = gzipSync(json);
    try {
      const { result } = await encrypt(this.#keyring, compressed, { suiteId: SUITE, encryptionContext });
      return result.toString("base64");
    } catch (error) {
      throw kmsFailureIn(error) ? dependencyError("KMS could not provide a branch key", error) : error;
    }
  }

  /**
   * base64 → check the context → decrypt → gunzip → JSON. The context is checked from the
   * message header before any key is unwrapped: a message bound to another record costs no KMS
   * call and never becomes plaintext.
   */
  async decrypt(ciphertext: string, expected: PayloadContext): Promise<unknown> {
    const binding = bindingOf(expected);
    const keyring = new ExpectedContextKeyring(this.#keyring, (actual) => this.#binds(actual, binding));
    let opened: Awaited<ReturnType<typeof decrypt>>;
    try {
      opened = await decrypt(keyring, Buffer.from(ciphertext, "base64"));
    } catch (error) {
      if (keyring.refused) throw new EncryptionContextMismatch(expected);
      throw kmsFailureIn(error) ? dependencyError("KMS could not unwrap the branch key", error) : new CiphertextRejected(error);
    }
    // The keyring saw the header's context; this re-check guards against an SDK that did not ask it.
    if (!this.#binds(opened.messageHeader.encryptionContext, binding)) throw new EncryptionContextMismatch(expected);
    try {
      return JSON.parse(gunzipSync(opened.plaintext, { maxOutputLength: this.#maxPlaintextBytes }).toString("utf8"));
    } catch (error) {
      throw new CiphertextRejected(error);
    }
  }

  /** Whether a message's context is the expected binding (or, while migrating, its legacy form). */
  #binds(actual: Readonly<Record<string, string>>, binding: Record<string, string>): boolean {
    const legacy = { userKey: binding.userKey!, entityType: binding.entityType! };
    if (this.#acceptLegacyContext && sameBinding(actual, legacy)) return true;
    if (binding.entityId !== undefined) return sameBinding(actual, binding);
    // A reader that does not name the entity: any entity of this user and type, under this schema.
    return actual.schema === PAYLOAD_CONTEXT_SCHEMA && typeof actual.entityId === "string" &&
      sameBinding(actual, { ...legacy, entityId: actual.entityId, schema: PAYLOAD_CONTEXT_SCHEMA });
  }

  /** KMS requests made by this cipher so far (for tests and benchmarks). */
  kmsCallCount(): number {
    return this.#kmsCalls;
  }

  /** GenerateDataKey and Decrypt of branch keys under `keyArn`, counted, with KMS errors sorted into outages and rejections. */
  #branchKeyKms(kms: KMSClient, keyArn: string): BranchKeyKms {
    const input = { KeyId: keyArn, EncryptionContext: { ...BRANCH_KEY_KMS_CONTEXT } };
    return {
      generate: async () => {
        this.#kmsCalls += 1;
        const { Plaintext, CiphertextBlob } = await kms.send(new GenerateDataKeyCommand({ ...input, KeySpec: "AES_256" })).catch((error: unknown) => {
          throw new BranchKeyUnavailable("KMS GenerateDataKey failed", error);
        });
        if (!Plaintext || !CiphertextBlob) throw new BranchKeyUnavailable("KMS GenerateDataKey returned no key");
        return { plaintext: Plaintext, wrapped: CiphertextBlob };
      },
      unwrap: async (wrapped) => {
        this.#kmsCalls += 1;
        const { Plaintext } = await kms.send(new DecryptCommand({ ...input, CiphertextBlob: wrapped })).catch((error: unknown) => {
          throw CIPHERTEXT_FAULTS.has(nameOf(error))
            ? new BranchKeyRejected("KMS refused the wrapped branch key", error)
            : new BranchKeyUnavailable("KMS Decrypt failed", error);
        });
        if (!Plaintext) throw new BranchKeyUnavailable("KMS Decrypt returned no key");
        return Plaintext;
      },
    };
  }
}

/**
 * One decryption's keyring: refuses the message when its header's context is not the expected
 * one, before the branch keyring unwraps anything; otherwise hands over to the shared keyring.
 */
class ExpectedContextKeyring extends KeyringNode {
  refused = false;

  constructor(private readonly inner: BranchKeyring, private readonly accepts: (context: Readonly<Record<string, string>>) => boolean) {
    super();
  }

  override _onEncrypt(): Promise<NodeEncryptionMaterial> {
    throw new Error("ExpectedContextKeyring only decrypts");
  }

  override async _onDecrypt(material: NodeDecryptionMaterial, encryptedDataKeys: EncryptedDataKey[]): Promise<NodeDecryptionMaterial> {
    if (!this.accepts(material.encryptionContext)) {
      this.refused = true;
      throw new Error("The message is bound to another context");
    }
    return this.inner.onDecrypt(material, encryptedDataKeys);
  }
}

/** The context a message is written with: the record's binding, or the legacy one when no entity is named. */
function bindingOf({ userKey, entityType, entityId }: PayloadContext): Record<string, string> {
  if (!userKey || !entityType) throw new TypeError("userKey and entityType are required");
  if (entityId === undefined) return { userKey, entityType };
  if (!entityId) throw new TypeError("entityId must not be empty");
  return { userKey, entityType, entityId, schema: PAYLOAD_CONTEXT_SCHEMA };
}

/** Exactly the expected keys and values: nothing missing, nothing extra. */
function sameBinding(actual: Readonly<Record<string, string>>, expected: Record<string, string>): boolean {
  const actualKeys = Object.keys(actual);
  return actualKeys.length === Object.keys(expected).length && actualKeys.every((key) => actual[key] === expected[key]);
}

/** Whether KMS being unavailable (not a bad ciphertext) caused `error`, however the SDK wrapped it. */
function kmsFailureIn(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth += 1) {
    if (cause instanceof BranchKeyUnavailable) return true;
  }
  return false;
}

function dependencyError(message: string, cause: unknown): DependencyError {
  const error = new DependencyError(message);
  error.cause = cause;
  return error;
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : "";
}
