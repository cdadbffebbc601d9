/**
 * Finding keys as AWS KMS does: by key id, key ARN, alias name or alias ARN, in the endpoint's
 * single account and the Region the client signed for; and refusing keys whose state or usage
 * does not allow the operation.
 */
import { keyState, notFound, wrongKeyUsage } from "./errors.js";
import type { KmsState, StoredKey } from "./state.js";

/** The one account the endpoint models (the account id local AWS tools conventionally use). */
export const ACCOUNT = "000000000000";

/** A key id as AWS makes them: a UUID, or `mrk-` and 32 hex digits for a multi-Region key. */
const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/i;
const KMS_ARN = /^arn:aws:kms:([a-z0-9-]*):(\d{12}):((?:key|alias)\/.+)$/;

type KeyUsage = StoredKey["keyUsage"];

export interface FoundKey<K extends StoredKey = StoredKey> { id: string; arn: string; key: K }

/** Which identifiers an operation takes: key management names a key only by its id or key ARN. */
export type Naming = "key-or-alias" | "key-only";

export class KeyRing {
  constructor(
    readonly state: KmsState,
    readonly save: () => void,
    readonly now: () => number,
  ) {}

  arn = (region: string, resource: string) => `arn:aws:kms:${region}:${ACCOUNT}:${resource}`;
  keyArn = (region: string, id: string) => this.arn(region, `key/${id}`);

  /** The key an identifier names, whatever its state. */
  find(identifier: string, region: string, naming: Naming = "key-or-alias"): FoundKey {
    const arn = KMS_ARN.exec(identifier);
    if (arn) {
      const [, arnRegion = "", account, resource = ""] = arn;
      // AWS answers a key ARN of another Region this way; an alias ARN gets the same answer here.
      // (moto_server resolves the key whatever Region and account the ARN names.)
      if (arnRegion !== region) throw notFound.region(arnRegion);
      // One account is modelled: another account's ARN names nothing that exists.
      if (account !== ACCOUNT) throw resource.startsWith("alias/") ? notFound.alias(identifier) : notFound.key(identifier);
      if (resource.startsWith("alias/") && naming === "key-only") throw notFound.keyId(identifier);
      return resource.startsWith("alias/") ? this.#byAlias(resource, region) : this.#byId(resource.slice("key/".length), region);
    }
    if (identifier.startsWith("alias/") && naming === "key-or-alias") return this.#byAlias(identifier, region);
    return this.#byId(identifier, region);
  }

  /** The key an operation may use now: enabled, and made for the operation's kind of work. */
  usable<U extends KeyUsage>(identifier: string, region: string, operation: string, usage: U): FoundKey<Extract<StoredKey, { keyUsage: U }>> {
    const found = this.find(identifier, region);
    refuseUnlessEnabled(found);
    if (found.key.keyUsage !== usage) throw wrongKeyUsage(found.arn, found.key.keyUsage, operation);
    return found as FoundKey<Extract<StoredKey, { keyUsage: U }>>;
  }

  /** A key id found inside a ciphertext: `undefined` when no such key exists (any more). */
  byEmbeddedId(id: string, region: string): FoundKey | undefined {
    const key = this.state.keys[id];
    return key && { id, arn: this.keyArn(region, id), key };
  }

  /** AWS deletes a key, and the aliases naming it, once its waiting period is over; each request starts here. */
  forgetDeletedKeys(): void {
    const now = this.now();
    const deleted = Object.entries(this.state.keys).filter(([, key]) => key.keyState === "PendingDeletion" && (key.deletionDate ?? Infinity) <= now);
    if (deleted.length === 0) return;
    for (const [id] of deleted) {
      delete this.state.keys[id];
      for (const [alias, target] of Object.entries(this.state.aliases)) if (target === id) delete this.state.aliases[alias];
    }
    this.save();
  }

  #byId(id: string, region: string): FoundKey {
    if (!KEY_ID.test(id)) throw notFound.keyId(id);
    const key = this.state.keys[id];
    if (key === undefined) throw notFound.key(this.keyArn(region, id));
    return { id, arn: this.keyArn(region, id), key };
  }

  #byAlias(alias: string, region: string): FoundKey {
    const id = this.state.aliases[alias];
    if (id === undefined) throw notFound.alias(this.arn(region, alias));
    return this.#byId(id, region);
  }
}

/** A disabled key and a key pending deletion refuse every cryptographic use (moto_server lets them work). */
export function refuseUnlessEnabled({ arn, key }: FoundKey): void {
  if (key.keyState === "Disabled") throw keyState.disabled(arn);
  if (key.keyState === "PendingDeletion") throw keyState.pendingDeletion(arn);
}

/** The algorithms each modelled kind of key offers, as DescribeKey and GetPublicKey list them. */
export function algorithmsOf(key: StoredKey): { EncryptionAlgorithms: string[] } | { SigningAlgorithms: string[] } {
  return key.keySpec === "SYMMETRIC_DEFAULT" ? { EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"] } : { SigningAlgorithms: ["ECDSA_SHA_256"] };
}
