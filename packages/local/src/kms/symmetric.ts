/**
 * Symmetric encryption (`SYMMETRIC_DEFAULT`): Encrypt, Decrypt, ReEncrypt, data keys, and
 * GenerateRandom. A ciphertext blob is
 * `version(1) | keyId(16, UUID bytes) | iv(12) | tag(16) | AES-256-GCM ciphertext`, with
 * `version | keyId | canonical encryption context (sorted keys)` as additional authenticated data,
 * so a blob names its key (Decrypt needs no KeyId, as in AWS) and opens only with its context.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { incompatibleAlgorithm, incorrectKey, invalid, invalidCiphertext } from "./errors.js";
import { canonicalContext, oneOf, optionalInteger, optionalString, requiredBlob, requiredString, type Input, type Operation } from "./input.js";
import { refuseUnlessEnabled, type FoundKey, type KeyRing } from "./keys.js";
import type { SymmetricKey } from "./state.js";

const BLOB_VERSION = 1;
const [HEADER_BYTES, IV_BYTES, TAG_BYTES] = [1 + 16, 12, 16];
const MAX_PLAINTEXT_BYTES = 4096;
const MAX_CIPHERTEXT_BYTES = 6144;
const ENCRYPTION_ALGORITHMS = ["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"] as const;

export const newSymmetricMaterial = () => randomBytes(32).toString("base64");

const uuidFromBytes = (bytes: Buffer) => bytes.toString("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
const materialOf = (key: SymmetricKey) => Buffer.from(key.material, "base64");

function seal({ id, key }: FoundKey<SymmetricKey>, plaintext: Buffer, context: Buffer): Buffer {
  const header = Buffer.concat([Buffer.of(BLOB_VERSION), Buffer.from(id.replaceAll("-", ""), "hex")]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", materialOf(key), iv).setAAD(Buffer.concat([header, context]));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
}

/** The key id a blob names, read before anything is decrypted. */
function embeddedKeyId(blob: Buffer): string {
  if (blob.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || blob[0] !== BLOB_VERSION) throw invalidCiphertext();
  return uuidFromBytes(blob.subarray(1, HEADER_BYTES));
}

function open(key: SymmetricKey, blob: Buffer, context: Buffer): Buffer {
  const tagEnd = HEADER_BYTES + IV_BYTES + TAG_BYTES;
  try {
    const decipher = createDecipheriv("aes-256-gcm", materialOf(key), blob.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES))
      .setAAD(Buffer.concat([blob.subarray(0, HEADER_BYTES), context]))
      .setAuthTag(blob.subarray(HEADER_BYTES + IV_BYTES, tagEnd));
    return Buffer.concat([decipher.update(blob.subarray(tagEnd)), decipher.final()]);
  } catch {
    // A changed byte and a different encryption context look alike to AES-GCM, and to AWS.
    throw invalidCiphertext();
  }
}

/** Only SYMMETRIC_DEFAULT encrypts with a symmetric key; the RSA and SM2 algorithms need key pairs. */
function symmetricAlgorithm(input: Input, member: string): "SYMMETRIC_DEFAULT" {
  const algorithm = oneOf(input, member, ENCRYPTION_ALGORITHMS, "SYMMETRIC_DEFAULT");
  if (algorithm !== "SYMMETRIC_DEFAULT") throw incompatibleAlgorithm(algorithm, "SYMMETRIC_DEFAULT");
  return algorithm;
}

function dataKeyLength(input: Input): number {
  const keySpec = input.KeySpec === undefined ? undefined : oneOf(input, "KeySpec", ["AES_256", "AES_128"] as const, "AES_256");
  const numberOfBytes = optionalInteger(input, "NumberOfBytes", 1, 1024);
  if ((keySpec === undefined) === (numberOfBytes === undefined)) throw invalid.value("Please specify either number of bytes or key spec.");
  return numberOfBytes ?? (keySpec === "AES_128" ? 16 : 32);
}

export function symmetricOperations(ring: KeyRing): Record<string, Operation> {
  const encryptionKey = (input: Input, member: string, region: string, operation: string) =>
    ring.usable(requiredString(input, member), region, operation, "ENCRYPT_DECRYPT");

  /** Decrypt and the first half of ReEncrypt: the blob names its key; a named key must be that one. */
  function decrypt(input: Input, region: string, members: { keyId: string; context: string; algorithm: string }) {
    const blob = requiredBlob(input, "CiphertextBlob", MAX_CIPHERTEXT_BYTES);
    const context = canonicalContext(input, members.context);
    const algorithm = symmetricAlgorithm(input, members.algorithm);
    const id = embeddedKeyId(blob);
    const named = optionalString(input, members.keyId);
    // AWS answers IncorrectKeyException here (moto_server: AccessDeniedException).
    if (named !== undefined && ring.find(named, region).id !== id) throw incorrectKey();
    // A blob naming a key that does not exist (never did, or was deleted) is not a valid ciphertext here.
    const found = ring.byEmbeddedId(id, region);
    if (found === undefined || found.key.keySpec !== "SYMMETRIC_DEFAULT") throw invalidCiphertext();
    refuseUnlessEnabled(found);
    return { found, algorithm, plaintext: open(found.key, blob, context) };
  }

  function generateDataKey(input: Input, region: string, operation: string) {
    const length = dataKeyLength(input);
    const context = canonicalContext(input);
    const found = encryptionKey(input, "KeyId", region, operation);
    const plaintext = randomBytes(length);
    return { KeyId: found.arn, CiphertextBlob: seal(found, plaintext, context).toString("base64"), Plaintext: plaintext.toString("base64") };
  }

  return {
    Encrypt: (input, region) => {
      const plaintext = requiredBlob(input, "Plaintext", MAX_PLAINTEXT_BYTES);
      const context = canonicalContext(input);
      const algorithm = symmetricAlgorithm(input, "EncryptionAlgorithm");
      const found = encryptionKey(input, "KeyId", region, "Encrypt");
      return { KeyId: found.arn, CiphertextBlob: seal(found, plaintext, context).toString("base64"), EncryptionAlgorithm: algorithm };
    },
    Decrypt: (input, region) => {
      const { found, algorithm, plaintext } = decrypt(input, region, { keyId: "KeyId", context: "EncryptionContext", algorithm: "EncryptionAlgorithm" });
      return { KeyId: found.arn, Plaintext: plaintext.toString("base64"), EncryptionAlgorithm: algorithm };
    },
    ReEncrypt: (input, region) => {
      const destinationId = requiredString(input, "DestinationKeyId");
      const destinationContext = canonicalContext(input, "DestinationEncryptionContext");
      const destinationAlgorithm = symmetricAlgorithm(input, "DestinationEncryptionAlgorithm");
      const source = decrypt(input, region, { keyId: "SourceKeyId", context: "SourceEncryptionContext", algorithm: "SourceEncryptionAlgorithm" });
      const destination = encryptionKey({ DestinationKeyId: destinationId }, "DestinationKeyId", region, "ReEncrypt");
      return {
        CiphertextBlob: seal(destination, source.plaintext, destinationContext).toString("base64"),
        SourceKeyId: source.found.arn,
        KeyId: destination.arn,
        SourceEncryptionAlgorithm: source.algorithm,
        DestinationEncryptionAlgorithm: destinationAlgorithm,
      };
    },
    GenerateDataKey: (input, region) => generateDataKey(input, region, "GenerateDataKey"),
    GenerateDataKeyWithoutPlaintext: (input, region) => {
      const { KeyId, CiphertextBlob } = generateDataKey(input, region, "GenerateDataKeyWithoutPlaintext");
      return { KeyId, CiphertextBlob };
    },
    GenerateRandom: (input) => {
      // Observed: AWS words a missing NumberOfBytes this way, not as a model constraint.
      const numberOfBytes = optionalInteger(input, "NumberOfBytes", 1, 1024);
      if (numberOfBytes === undefined) throw invalid.value("NumberOfBytes is required.");
      return { Plaintext: randomBytes(numberOfBytes).toString("base64") };
    },
  };
}
