/**
 * Verification of a compact JWS signed with ES256 (ECDSA P-256, SHA-256) against a JSON Web Key
 * Set, with WebCrypto only (`crypto.subtle`): no Node modules, no JOSE library. The JWS
 * signature is the raw `r || s` pair, which is also what WebCrypto's ECDSA verify expects.
 *
 * @example
 * const claims = await verifyEs256(signedEntitlements, (kid) => keys.find((k) => k.kid === kid), crypto.subtle);
 * if (claims === null) fallBackToFree();
 */
import type { SubtleLike } from "./platform.js";
import { JwkSchema, type Jwk } from "./protocol.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const LOOKUP = new Map([...ALPHABET].map((c, i) => [c, i]));

/** base64url (no padding) to bytes; null for a character outside the alphabet. */
export function base64UrlDecode(text: string): Uint8Array | null {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = LOOKUP.get(char);
    if (value === undefined) return null;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function decodeJson(part: string): unknown {
  const bytes = base64UrlDecode(part);
  if (!bytes) return null;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
}

export type JwsFailure = "malformed" | "unsupported_alg" | "unknown_key" | "bad_signature";

export type JwsResult = { ok: true; kid: string; claims: unknown } | { ok: false; reason: JwsFailure; kid?: string };

/** Keys of a JWKS that can verify ES256; the others are ignored. */
export function es256Keys(keys: readonly unknown[]): Jwk[] {
  return keys.flatMap((key) => {
    const parsed = JwkSchema.safeParse(key);
    return parsed.success && (parsed.data.alg === undefined || parsed.data.alg === "ES256") ? [parsed.data] : [];
  });
}

/** Checks the signature only; the caller checks what the claims say (expiry, shape). */
export async function verifyEs256(
  compact: string,
  keyFor: (kid: string) => Promise<Jwk | undefined> | Jwk | undefined,
  subtle: SubtleLike,
): Promise<JwsResult> {
  const parts = compact.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart) as { alg?: unknown; kid?: unknown } | null;
  const claims = decodeJson(payloadPart);
  const signature = base64UrlDecode(signaturePart);
  if (!header || typeof header !== "object" || claims === null || !signature) return { ok: false, reason: "malformed" };
  if (header.alg !== "ES256") return { ok: false, reason: "unsupported_alg" };
  if (typeof header.kid !== "string") return { ok: false, reason: "unknown_key" };
  const jwk = await keyFor(header.kid);
  if (!jwk) return { ok: false, reason: "unknown_key", kid: header.kid };
  if (signature.byteLength !== 64) return { ok: false, reason: "bad_signature", kid: header.kid };
  let valid: boolean;
  try {
    const key = await subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true }, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    valid = await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, encoder.encode(`${headerPart}.${payloadPart}`));
  } catch {
    valid = false;
  }
  return valid ? { ok: true, kid: header.kid, claims } : { ok: false, reason: "bad_signature", kid: header.kid };
}
