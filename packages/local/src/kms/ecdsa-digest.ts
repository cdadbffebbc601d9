/**
 * ECDSA on P-256 over a digest the caller has already computed (KMS `MessageType: DIGEST`).
 * node:crypto always hashes what it signs (even with a `null` algorithm it hashes with SHA-256), so
 * this does the scalar arithmetic itself and leaves the curve arithmetic to node: k·G is the public
 * key node's ECDH derives from the private value k. Signatures are DER, as KMS answers them, and
 * verify with node:crypto against the message whose SHA-256 the digest is.
 *
 * This is a local stand-in, not constant-time code: it signs with development keys only.
 */
import { createECDH, randomBytes } from "node:crypto";

/** The order of the P-256 base point G. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const toBigInt = (bytes: Buffer) => (bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString("hex")}`));
const to32Bytes = (value: bigint) => Buffer.from(value.toString(16).padStart(64, "0"), "hex");
const modN = (value: bigint) => ((value % N) + N) % N;

/** a⁻¹ mod N by Fermat's little theorem (N is prime). */
function inverse(a: bigint): bigint {
  let [result, base, exponent] = [1n, modN(a), N - 2n];
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % N;
    base = (base * base) % N;
    exponent >>= 1n;
  }
  return result;
}

/** The x coordinate of scalar·G, mod N, computed by node's own P-256 code. */
function xOfScalarTimesG(scalar: bigint): bigint {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(to32Bytes(scalar));
  return modN(toBigInt(ecdh.getPublicKey().subarray(1, 33))); // uncompressed point: 04 | x | y
}

function derInteger(value: bigint): Buffer {
  const hex = value.toString(16);
  let bytes = Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, "hex");
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.of(0), bytes]); // stay positive
  return Buffer.concat([Buffer.of(0x02, bytes.length), bytes]);
}

/** `SEQUENCE { INTEGER r, INTEGER s }`, both minimally encoded. */
export function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.of(0x30, body.length), body]);
}

/** (r, s) of a strictly DER-encoded signature, or `undefined` for anything else. */
export function parseDerSignature(signature: Buffer): { r: bigint; s: bigint } | undefined {
  if (signature.length < 8 || signature[0] !== 0x30 || signature[1] !== signature.length - 2) return undefined;
  const integers: bigint[] = [];
  let at = 2;
  for (let i = 0; i < 2; i++) {
    const length = signature[at + 1] ?? 0;
    const bytes = signature.subarray(at + 2, at + 2 + length);
    const [first = 0, second = 0] = bytes;
    const negative = (first & 0x80) !== 0;
    const padded = length > 1 && first === 0 && (second & 0x80) === 0;
    if (signature[at] !== 0x02 || length === 0 || bytes.length !== length || negative || padded) return undefined;
    integers.push(toBigInt(bytes));
    at += 2 + length;
  }
  const [r = 0n, s = 0n] = integers;
  return at === signature.length ? { r, s } : undefined;
}

/** Signs a 32-byte digest with the private scalar `d`; k is fresh randomness, as KMS's signatures are. */
export function signDigest(d: bigint, digest: Buffer): Buffer {
  const e = toBigInt(digest);
  for (;;) {
    const k = toBigInt(randomBytes(32));
    if (k === 0n || k >= N) continue;
    const r = xOfScalarTimesG(k);
    const s = modN(inverse(k) * (e + r * d));
    if (r !== 0n && s !== 0n) return derSignature(r, s);
  }
}

/**
 * Whether `signature` signs `digest` for the key whose private scalar is `d`. The endpoint holds
 * the private key, so u₁·G + u₂·Q is computed as (u₁ + u₂·d)·G (Q = d·G): one scalar
 * multiplication node can do, and the same equation ECDSA verification checks.
 */
export function verifyDigest(d: bigint, digest: Buffer, signature: Buffer): boolean {
  const parsed = parseDerSignature(signature);
  if (parsed === undefined) return false;
  const { r, s } = parsed;
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const w = inverse(s);
  const t = modN(toBigInt(digest) * w + r * w * d);
  return t !== 0n && xOfScalarTimesG(t) === r;
}

/** The private scalar of a P-256 key, from its JWK form. */
export const privateScalar = (jwkD: string) => toBigInt(Buffer.from(jwkD, "base64url"));
