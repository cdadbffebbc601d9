import { createHash, createPublicKey, type JsonWebKey } from "node:crypto";

/**
 * Signed entitlements (SPEC §3.1): a compact JWS (ES256) over the entitlement claims, made with
 * an asymmetric key that never leaves KMS, and the JSON Web Key Set devices verify it with.
 * Signing and publishing are separate classes because they run in separate functions: only the
 * entitlements function may `kms:Sign`, only the JWKS function may `kms:GetPublicKey`.
 *
 * @example
 * const kid = signingKeyId(keyArn);
 * const signer = new EntitlementSigner(kmsSigningBackend(client, keyArn), kid);
 * const { jws } = await signer.sign(`${userKey}${etag}`, claims, Date.now());
 * const jwks = await new PublicKeySet(kmsSigningBackend(client, keyArn), kid).jwks();
 */

/** What the signer needs of a key: KMS `Sign` (ECDSA_SHA_256) of a message. */
export interface SigningBackend {
  /** An ASN.1 DER `ECDSA-Sig-Value`, as KMS answers. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** What the key set needs of a key: KMS `GetPublicKey`. */
export interface PublicKeySource {
  /** The public key as DER SubjectPublicKeyInfo, as KMS answers. */
  publicKeySpki(): Promise<Uint8Array>;
}

export interface EcJwk { kty: "EC"; crv: "P-256"; x: string; y: string; kid: string; alg: "ES256"; use: "sig" }

/**
 * The `kid` of the signing key, from its ARN alone, so the signing function needs no
 * `GetPublicKey` to name the key. A digest rather than the ARN: the public key set names no
 * account or key id, and a new key (rotation: a new ARN) gets a new `kid`.
 */
export function signingKeyId(keyArn: string): string {
  if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(keyArn)) throw new Error("SIGNING_KEY_ARN is not a KMS key ARN");
  return createHash("sha256").update(keyArn).digest("base64url").slice(0, 22);
}

const P256_BYTES = 32;
const b64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString("base64url");

/**
 * A DER `SEQUENCE { INTEGER r, INTEGER s }` as JWS wants it: r‖s, each left-padded to 32 bytes.
 * DER integers are minimal and signed, so either may be shorter than 32 bytes or carry a 0x00.
 */
export function derToJoseSignature(der: Uint8Array): Buffer {
  const fail = (): never => { throw new Error("KMS returned a malformed ECDSA signature"); };
  let at = 0;
  if (der[at++] !== 0x30) fail();
  let length = der[at++] ?? fail();
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i++) length = (length << 8) | (der[at++] ?? fail());
  }
  if (at + length !== der.length) fail();
  const integer = (): Buffer => {
    if (der[at++] !== 0x02) fail();
    const size = der[at++] ?? fail();
    let value = Buffer.from(der.subarray(at, at + size));
    at += size;
    if (value.length !== size) fail();
    while (value.length > P256_BYTES && value[0] === 0) value = value.subarray(1);
    if (value.length > P256_BYTES) fail();
    return Buffer.concat([Buffer.alloc(P256_BYTES - value.length), value]);
  };
  const r = integer();
  const s = integer();
  if (at !== der.length) fail();
  return Buffer.concat([r, s]);
}

/** The public key as a JWK named `kid`. */
export function jwkFromSpki(spki: Uint8Array, kid: string): EcJwk {
  const jwk: JsonWebKey = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).export({ format: "jwk" });
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.x || !jwk.y) throw new Error("the signing key is not an ECC_NIST_P256 key");
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, kid, alg: "ES256", use: "sig" };
}

/**
 * A signature is reused for the same state (same cache key) for up to 5 minutes, so a burst of
 * reads (a user's devices after a poke) costs one KMS call. Devices count `validUntil` from the
 * claims' `iat`, so a reused signature lets one keep its answer offline up to this long past
 * the server's `validUntil`; 5 minutes (the refresh interval) keeps that within one refresh.
 * A signature is never reused past its own `exp`.
 */
export const SIGNATURE_REUSE_MS = 5 * 60_000;
const MAX_CACHED = 10_000;

export type SignableClaims = Record<string, unknown> & { validUntil: string };

export interface SignedClaims<C extends SignableClaims> {
  jws: string;
  /** The claims the JWS carries (without `iat`/`exp`): those of the reused signature when it is reused. */
  claims: C;
}

export class EntitlementSigner {
  private readonly cache = new Map<string, { signed: SignedClaims<SignableClaims>; signedAt: number; expMs: number }>();

  constructor(private readonly backend: SigningBackend, private readonly kid: string) {}

  /**
   * The compact JWS of `claims` plus `iat`/`exp` (`exp` = `validUntil`). `cacheKey` must change
   * with every state the claims describe (the ETag does), and name the user (it is per user).
   */
  async sign<C extends SignableClaims>(cacheKey: string, claims: C, nowMs: number): Promise<SignedClaims<C>> {
    const cached = this.cache.get(cacheKey);
    if (cached && nowMs - cached.signedAt < SIGNATURE_REUSE_MS && nowMs < cached.expMs) return cached.signed as SignedClaims<C>;
    const expMs = Date.parse(claims.validUntil);
    const header = b64url(JSON.stringify({ alg: "ES256", typ: "JWT", kid: this.kid }));
    const payload = b64url(JSON.stringify({ ...claims, iat: Math.floor(nowMs / 1000), exp: Math.floor(expMs / 1000) }));
    const input = `${header}.${payload}`;
    const signature = derToJoseSignature(await this.backend.sign(Buffer.from(input)));
    const signed = { jws: `${input}.${b64url(signature)}`, claims };
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(cacheKey, { signed, signedAt: nowMs, expMs });
    return signed;
  }
}

/** The JSON Web Key Set of the signing key: one `GetPublicKey` per container. */
export class PublicKeySet {
  private keys: Promise<{ keys: EcJwk[] }> | undefined;

  constructor(private readonly source: PublicKeySource, private readonly kid: string) {}

  async jwks(): Promise<{ keys: EcJwk[] }> {
    // A failure is not cached, so the next request retries.
    this.keys ??= this.source.publicKeySpki()
      .then((spki) => ({ keys: [jwkFromSpki(spki, this.kid)] }))
      .catch((error: unknown) => { this.keys = undefined; throw error; });
    return this.keys;
  }
}
