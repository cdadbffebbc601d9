import { createHash, createPublicKey, type JsonWebKey } from "node:crypto";

/**
 * Signed entitlements (SPEC §3.1): a compact JWS (ES256) over the entitlement claims, made with
 * an asymmetric key that never leaves KMS, and the JSON Web Key Set devices verify it with.
 *
 * @example
 * const signer = new EntitlementSigner(kmsSigningBackend(kmsClient(), keyArn));
 * const jws = await signer.sign(etag, claims, Date.now());
 */

/** What the signer needs of a key: KMS `Sign` (ECDSA_SHA_256 over the raw message) and `GetPublicKey`. */
export interface SigningBackend {
  /** An ASN.1 DER `ECDSA-Sig-Value`, as KMS answers. */
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** The public key as DER SubjectPublicKeyInfo, as KMS answers. */
  publicKeySpki(): Promise<Uint8Array>;
}

export interface EcJwk { kty: "EC"; crv: "P-256"; x: string; y: string; kid: string; alg: "ES256"; use: "sig" }

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

/** The public key as a JWK; `kid` is its RFC 7638 thumbprint, so it changes only with the key. */
export function jwkFromSpki(spki: Uint8Array): EcJwk {
  const jwk: JsonWebKey = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).export({ format: "jwk" });
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.x || !jwk.y) throw new Error("the signing key is not an ECC_NIST_P256 key");
  const thumbprint = createHash("sha256").update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest();
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, kid: b64url(thumbprint), alg: "ES256", use: "sig" };
}

/**
 * A signature is reused for the same state (same ETag) for up to an hour, so reads cost no KMS
 * call; the hour bounds how stale the signed `refreshAfter`/`validUntil` may be against a fresh
 * answer, and a signature is never reused past its own `exp`.
 */
export const SIGNATURE_REUSE_MS = 60 * 60_000;
const MAX_CACHED = 10_000;

export class EntitlementSigner {
  private jwk: Promise<EcJwk> | undefined;
  private readonly cache = new Map<string, { jws: string; signedAt: number; expMs: number }>();

  constructor(private readonly backend: SigningBackend) {}

  async publicJwk(): Promise<EcJwk> {
    // One GetPublicKey per container; a failure is not cached, so the next call retries.
    this.jwk ??= this.backend.publicKeySpki().then(jwkFromSpki).catch((error: unknown) => { this.jwk = undefined; throw error; });
    return this.jwk;
  }

  /**
   * The compact JWS of `claims` plus `iat`/`exp` (`exp` = `validUntil`). `cacheKey` must change
   * with every state the claims describe (the ETag does), and name the user (it is per user).
   */
  async sign(cacheKey: string, claims: Record<string, unknown> & { validUntil: string }, nowMs: number): Promise<string> {
    const cached = this.cache.get(cacheKey);
    if (cached && nowMs - cached.signedAt < SIGNATURE_REUSE_MS && nowMs < cached.expMs) return cached.jws;
    const { kid } = await this.publicJwk();
    const expMs = Date.parse(claims.validUntil);
    const header = b64url(JSON.stringify({ alg: "ES256", typ: "JWT", kid }));
    const payload = b64url(JSON.stringify({ ...claims, iat: Math.floor(nowMs / 1000), exp: Math.floor(expMs / 1000) }));
    const input = `${header}.${payload}`;
    const signature = derToJoseSignature(await this.backend.sign(Buffer.from(input)));
    const jws = `${input}.${b64url(signature)}`;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(cacheKey, { jws, signedAt: nowMs, expMs });
    return jws;
  }
}
