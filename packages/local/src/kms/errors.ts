/**
 * The errors the local KMS endpoint answers, each named (`__type`) and worded as AWS KMS words it.
 * AWS sends every one of them with HTTP 400 (KMSInternalException aside), whatever status its API
 * model lists, so the endpoint does too. Messages marked "observed" are AWS's own, as recorded
 * from the real service in LocalStack's AWS-validated KMS test snapshots or quoted in public bug
 * reports; the others follow AWS's documented meaning in the same style.
 */
export class KmsError extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

const validationError = (message: string) => new KmsError("ValidationException", message);

/** Model constraints are checked first, with AWS's wording: "1 validation error detected: …". */
export const invalid = {
  /** A required member is absent. */
  missing: (member: string) => validationError(`1 validation error detected: Value null at '${memberName(member)}' failed to satisfy constraint: Member must not be null`),
  tooShort: (member: string, min: number) => validationError(`1 validation error detected: Value at '${memberName(member)}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`),
  /** Observed for a 4097-byte Encrypt plaintext. */
  tooLong: (member: string, max: number) => validationError(`1 validation error detected: Value at '${memberName(member)}' failed to satisfy constraint: Member must have length less than or equal to ${max}`),
  /** Observed for GenerateRandom with 0 and 1025 bytes. */
  belowMinimum: (member: string, value: unknown, min: number) => validationError(`1 validation error detected: Value '${String(value)}' at '${memberName(member)}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`),
  aboveMaximum: (member: string, value: unknown, max: number) => validationError(`1 validation error detected: Value '${String(value)}' at '${memberName(member)}' failed to satisfy constraint: Member must have value less than or equal to ${max}`),
  notOneOf: (member: string, value: unknown, allowed: readonly string[]) => validationError(`1 validation error detected: Value '${String(value)}' at '${memberName(member)}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(", ")}]`),
  /** Any other rejected value, in plain words. */
  value: (message: string) => validationError(message),
};

/** AWS names the member in camel case in these messages (`plaintext`, `numberOfBytes`). */
const memberName = (member: string) => member.charAt(0).toLowerCase() + member.slice(1);

export const notFound = {
  /** Observed: a well-formed key id or key ARN that names no key. */
  key: (keyArn: string) => new KmsError("NotFoundException", `Key '${keyArn}' does not exist`),
  /** Observed: a key id that is not a UUID (nor an `mrk-` multi-Region id). */
  keyId: (keyId: string) => new KmsError("NotFoundException", `Invalid keyId '${keyId}'`),
  /** Observed: a key ARN naming a Region other than the endpoint's. */
  region: (region: string) => new KmsError("NotFoundException", `Invalid arn ${region}`),
  alias: (aliasArn: string) => new KmsError("NotFoundException", `Alias ${aliasArn} is not found.`),
};

export const keyState = {
  /** Observed for a disabled key. */
  disabled: (keyArn: string) => new KmsError("DisabledException", `${keyArn} is disabled.`),
  /** Observed for a key pending deletion. */
  pendingDeletion: (keyArn: string) => new KmsError("KMSInvalidStateException", `${keyArn} is pending deletion.`),
  notPendingDeletion: (keyArn: string) => new KmsError("KMSInvalidStateException", `${keyArn} is not pending deletion.`),
};

/** Observed: "<key ARN> key usage is SIGN_VERIFY which is not valid for Encrypt." */
export const wrongKeyUsage = (keyArn: string, usage: string, operation: string) =>
  new KmsError("InvalidKeyUsageException", `${keyArn} key usage is ${usage} which is not valid for ${operation}.`);

/** Observed wording (for MAC algorithms): "Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256." */
export const incompatibleAlgorithm = (algorithm: string, keySpec: string) =>
  new KmsError("InvalidKeyUsageException", `Algorithm ${algorithm} is incompatible with key spec ${keySpec}.`);

/** Observed, for Decrypt's KeyId and ReEncrypt's SourceKeyId alike. */
export const incorrectKey = () => new KmsError("IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.");

/** Observed: AWS sends no message, whether the blob is corrupt or the encryption context differs. */
export const invalidCiphertext = () => new KmsError("InvalidCiphertextException", "");

/** Observed: AWS sends no message. */
export const invalidSignature = () => new KmsError("KMSInvalidSignatureException", "");

export const unsupported = (message: string) => new KmsError("UnsupportedOperationException", message);

export const alreadyExists = (aliasArn: string) => new KmsError("AlreadyExistsException", `An alias with the name ${aliasArn} already exists`);
