/**
 * Asymmetric signing keys (`ECC_NIST_P256`, `SIGN_VERIFY`): Sign, Verify and GetPublicKey with
 * `ECDSA_SHA_256`. A RAW message (1–4096 bytes) is hashed with SHA-256 and signed by node:crypto; a
 * DIGEST message is the 32-byte SHA-256 digest itself. Signatures are DER-encoded, as AWS answers
 * them; the public key is the DER SubjectPublicKeyInfo. The private key never leaves the state file.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { signDigest, verifyDigest, privateScalar } from "./ecdsa-digest.js";
import { incompatibleAlgorithm, invalid, invalidSignature, unsupported } from "./errors.js";
import { oneOf, requiredBlob, requiredString, type Input, type Operation } from "./input.js";
import { algorithmsOf, refuseUnlessEnabled, type FoundKey, type KeyRing } from "./keys.js";
import type { SigningKey } from "./state.js";

const MAX_MESSAGE_BYTES = 4096;
const MAX_SIGNATURE_BYTES = 6144;
const DIGEST_BYTES = 32;
const SIGNING_ALGORITHMS = [
  "ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512", "ED25519_PH_SHA_512", "ED25519_SHA_512", "ML_DSA_SHAKE_256",
  "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512", "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "SM2DSA",
] as const;
const MESSAGE_TYPES = ["RAW", "DIGEST", "EXTERNAL_MU"] as const;

/** A new P-256 key pair, kept as its PKCS#8 DER private key. */
export function newSigningKeyPair(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return privateKey.export({ format: "der", type: "pkcs8" }).toString("base64");
}

const privateKeyOf = (key: SigningKey): KeyObject => createPrivateKey({ key: Buffer.from(key.privateKey, "base64"), format: "der", type: "pkcs8" });
const scalarOf = (privateKey: KeyObject) => privateScalar(privateKey.export({ format: "jwk" }).d ?? "");

/** What Sign and Verify share: the message as the algorithm takes it, and the key that may sign it. */
function signingRequest(ring: KeyRing, input: Input, region: string, operation: string) {
  const message = requiredBlob(input, "Message", MAX_MESSAGE_BYTES);
  const messageType = oneOf(input, "MessageType", MESSAGE_TYPES, "RAW");
  const algorithm = input.SigningAlgorithm === undefined ? undefined : oneOf(input, "SigningAlgorithm", SIGNING_ALGORITHMS, "ECDSA_SHA_256");
  if (algorithm === undefined) throw invalid.missing("SigningAlgorithm");
  const found = ring.usable(requiredString(input, "KeyId"), region, operation, "SIGN_VERIFY");
  if (algorithm !== "ECDSA_SHA_256") throw incompatibleAlgorithm(algorithm, found.key.keySpec);
  if (messageType === "EXTERNAL_MU") throw invalid.value(`MessageType EXTERNAL_MU is not valid for algorithm ${algorithm}.`);
  // Observed wording, for a DIGEST that is not as long as the algorithm's hash (moto_server ignores
  // MessageType: it signs any DIGEST, hashing it again).
  if (messageType === "DIGEST" && message.length !== DIGEST_BYTES) throw invalid.value(`Digest is invalid length for algorithm ${algorithm}.`);
  return { found, message, isDigest: messageType === "DIGEST", algorithm };
}

function signatureIsValid({ key }: FoundKey<SigningKey>, message: Buffer, isDigest: boolean, signature: Buffer): boolean {
  const privateKey = privateKeyOf(key);
  if (isDigest) return verifyDigest(scalarOf(privateKey), message, signature);
  try {
    return verify("sha256", message, { key: createPublicKey(privateKey), dsaEncoding: "der" }, signature);
  } catch {
    return false; // not a signature at all
  }
}

export function signingOperations(ring: KeyRing): Record<string, Operation> {
  return {
    Sign: (input, region) => {
      const { found, message, isDigest, algorithm } = signingRequest(ring, input, region, "Sign");
      const privateKey = privateKeyOf(found.key);
      const signature = isDigest
        ? signDigest(scalarOf(privateKey), message)
        : sign("sha256", message, { key: privateKey, dsaEncoding: "der" });
      return { KeyId: found.arn, Signature: signature.toString("base64"), SigningAlgorithm: algorithm };
    },
    Verify: (input, region) => {
      const signature = requiredBlob(input, "Signature", MAX_SIGNATURE_BYTES);
      const { found, message, isDigest, algorithm } = signingRequest(ring, input, region, "Verify");
      // AWS never answers SignatureValid: false; a signature that does not verify is an error
      // (moto_server answers SignatureValid: false).
      if (!signatureIsValid(found, message, isDigest, signature)) throw invalidSignature();
      return { KeyId: found.arn, SignatureValid: true, SigningAlgorithm: algorithm };
    },
    GetPublicKey: (input, region) => {
      const found = ring.find(requiredString(input, "KeyId"), region);
      // The key state table lists DisabledException for GetPublicKey; refusing is the stricter choice.
      refuseUnlessEnabled(found);
      const { arn, key } = found;
      if (key.keySpec === "SYMMETRIC_DEFAULT") throw unsupported(`${arn} key spec is SYMMETRIC_DEFAULT, which has no public key.`);
      const publicKey = createPublicKey(privateKeyOf(key)).export({ format: "der", type: "spki" });
      return {
        KeyId: arn, PublicKey: publicKey.toString("base64"), KeySpec: key.keySpec, CustomerMasterKeySpec: key.keySpec,
        KeyUsage: key.keyUsage, ...algorithmsOf(key),
      };
    },
  };
}
