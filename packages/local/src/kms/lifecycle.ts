/**
 * A key's life: CreateKey, aliases, DescribeKey, and the states AWS KMS gives a key
 * (Enabled ⇄ Disabled, PendingDeletion for a 7–30 day window, then gone; CancelKeyDeletion
 * leaves the key Disabled, as in AWS).
 */
import { randomUUID } from "node:crypto";
import { alreadyExists, invalid, keyState, KmsError, unsupported } from "./errors.js";
import { newSigningKeyPair } from "./asymmetric.js";
import { oneOf, optionalInteger, optionalString, requiredString, type Input, type Operation } from "./input.js";
import { ACCOUNT, algorithmsOf, type FoundKey, type KeyRing } from "./keys.js";
import type { SigningKey, StoredKey, SymmetricKey } from "./state.js";
import { newSymmetricMaterial } from "./symmetric.js";

const DAY_MS = 86_400_000;
const seconds = (epochMs: number) => epochMs / 1000;

export function keyMetadata({ id, arn, key }: FoundKey) {
  return {
    AWSAccountId: ACCOUNT, KeyId: id, Arn: arn, CreationDate: seconds(key.createdAt), Description: key.description,
    Enabled: key.keyState === "Enabled", KeyState: key.keyState,
    ...(key.keyState === "PendingDeletion" && key.deletionDate !== undefined ? { DeletionDate: seconds(key.deletionDate) } : {}),
    KeyUsage: key.keyUsage, KeySpec: key.keySpec, CustomerMasterKeySpec: key.keySpec, ...algorithmsOf(key),
    Origin: "AWS_KMS", KeyManager: "CUSTOMER", MultiRegion: false,
  };
}

const KEY_SPECS = [
  "SYMMETRIC_DEFAULT", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519",
  "RSA_2048", "RSA_3072", "RSA_4096", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ML_KEM_512", "ML_KEM_768", "ML_KEM_1024",
] as const;
const KEY_USAGES = ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE"] as const;

type NewKey = Pick<SymmetricKey, "keySpec" | "keyUsage" | "material"> | Pick<SigningKey, "keySpec" | "keyUsage" | "privateKey">;

/** The key CreateKey makes: one of the two kinds modelled here, or the error AWS (or, for other kinds, this endpoint) answers. */
function newKey(input: Input): NewKey {
  const keySpec = oneOf(input, input.KeySpec === undefined ? "CustomerMasterKeySpec" : "KeySpec", KEY_SPECS, "SYMMETRIC_DEFAULT");
  if (input.KeyUsage === undefined && keySpec !== "SYMMETRIC_DEFAULT") {
    // Observed wording.
    throw invalid.value("You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.");
  }
  const keyUsage = oneOf(input, "KeyUsage", KEY_USAGES, "ENCRYPT_DECRYPT");
  if (input.MultiRegion === true || (input.Origin ?? "AWS_KMS") !== "AWS_KMS" || input.CustomKeyStoreId !== undefined) {
    throw unsupported("The local KMS endpoint models single-Region keys with AWS_KMS key material only");
  }
  if (keySpec === "SYMMETRIC_DEFAULT" && keyUsage === "ENCRYPT_DECRYPT") return { keySpec, keyUsage, material: newSymmetricMaterial() };
  if (keySpec === "ECC_NIST_P256" && keyUsage === "SIGN_VERIFY") return { keySpec, keyUsage, privateKey: newSigningKeyPair() };
  // Observed wording (for KEY_AGREEMENT with RSA_2048). AWS has no symmetric signing keys, nor elliptic-curve encryption keys.
  if (keySpec === "SYMMETRIC_DEFAULT" || (keySpec.startsWith("ECC_") && keyUsage === "ENCRYPT_DECRYPT")) {
    throw invalid.value(`KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
  }
  throw unsupported(`The local KMS endpoint does not model ${keySpec} keys for ${keyUsage}`);
}

/** A name CreateAlias accepts: the API model's pattern, then AWS's own rules. */
function aliasName(input: Input): string {
  const name = requiredString(input, "AliasName");
  if (name.length > 256) throw invalid.tooLong("AliasName", 256);
  if (!/^[a-zA-Z0-9:/_-]+$/.test(name)) throw invalid.value(`1 validation error detected: Value '${name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$`);
  // Observed wording.
  if (!name.startsWith("alias/")) throw invalid.value('Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  // The prefix is reserved for AWS managed keys. NotAuthorizedException is what moto_server answers for
  // the AWS managed aliases it knows; AWS's own answer is not confirmed.
  if (name.startsWith("alias/aws/")) throw new KmsError("NotAuthorizedException", `${name} is reserved for AWS managed keys`);
  if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name)) throw new KmsError("InvalidAliasNameException", `${name} contains invalid characters for an alias`);
  return name;
}

export function lifecycleOperations(ring: KeyRing): Record<string, Operation> {
  const managed = (input: Input, region: string) => ring.find(requiredString(input, "KeyId"), region, "key-only");

  /** Disabling and enabling change nothing else; a key pending deletion must first be cancelled. */
  function setEnabled(input: Input, region: string, enabled: boolean) {
    const found = managed(input, region);
    if (found.key.keyState === "PendingDeletion") throw keyState.pendingDeletion(found.arn);
    found.key.keyState = enabled ? "Enabled" : "Disabled";
    ring.save();
    return {};
  }

  return {
    CreateKey: (input, region) => {
      const description = optionalString(input, "Description") ?? "";
      const id = randomUUID();
      const key: StoredKey = { ...newKey(input), createdAt: ring.now(), description, keyState: "Enabled" };
      ring.state.keys[id] = key;
      ring.save();
      return { KeyMetadata: keyMetadata({ id, arn: ring.keyArn(region, id), key }) };
    },
    DescribeKey: (input, region) => ({ KeyMetadata: keyMetadata(ring.find(requiredString(input, "KeyId"), region)) }),
    EnableKey: (input, region) => setEnabled(input, region, true),
    DisableKey: (input, region) => setEnabled(input, region, false),
    ScheduleKeyDeletion: (input, region) => {
      const days = optionalInteger(input, "PendingWindowInDays", 1, 365) ?? 30;
      if (days < 7 || days > 30) throw invalid.value(`PendingWindowInDays must be between 7 and 30, not ${days}`);
      const found = managed(input, region);
      if (found.key.keyState === "PendingDeletion") throw keyState.pendingDeletion(found.arn);
      found.key.keyState = "PendingDeletion";
      found.key.deletionDate = ring.now() + days * DAY_MS;
      ring.save();
      return { KeyId: found.arn, DeletionDate: seconds(found.key.deletionDate), KeyState: "PendingDeletion", PendingWindowInDays: days };
    },
    CancelKeyDeletion: (input, region) => {
      const found = managed(input, region);
      if (found.key.keyState !== "PendingDeletion") throw keyState.notPendingDeletion(found.arn);
      found.key.keyState = "Disabled";
      delete found.key.deletionDate;
      ring.save();
      return { KeyId: found.arn };
    },
    CreateAlias: (input, region) => {
      const name = aliasName(input);
      const target = ring.find(requiredString(input, "TargetKeyId"), region, "key-only");
      if (target.key.keyState === "PendingDeletion") throw keyState.pendingDeletion(target.arn);
      if (ring.state.aliases[name] !== undefined) throw alreadyExists(ring.arn(region, name));
      ring.state.aliases[name] = target.id;
      ring.save();
      return {};
    },
    ListAliases: (input, region) => {
      const keyId = optionalString(input, "KeyId");
      const only = keyId === undefined ? undefined : ring.find(keyId, region, "key-only").id;
      const aliases = Object.entries(ring.state.aliases).filter(([, target]) => only === undefined || target === only);
      return { Aliases: aliases.map(([name, target]) => ({ AliasName: name, AliasArn: ring.arn(region, name), TargetKeyId: target })), Truncated: false };
    },
  };
}
