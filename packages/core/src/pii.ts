import { createHmac } from "node:crypto";

/** The least the pseudonym secret must hold: 32 random bytes, as HMAC-SHA256's own key size. */
export const PSEUDONYM_SECRET_BYTES = 32;
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Whether `secret` is an encoding (hex, or base64/base64url) of at least 32 bytes: what
 * `randomBytes(32)` gives, and what a guessable passphrase is not. The HMAC key stays the
 * secret's own text, so keys made with an accepted secret do not change.
 */
export function pseudonymSecretProblem(secret: string): string | undefined {
  const bytes = HEX.test(secret) ? secret.length / 2 : BASE64.test(secret) ? Math.floor((secret.replace(/=+$/, "").length * 3) / 4) : 0;
  if (bytes >= PSEUDONYM_SECRET_BYTES && new Set(secret).size > 4) return undefined;
  return `the pseudonym secret must be at least ${PSEUDONYM_SECRET_BYTES} random bytes, hex or base64 (e.g. openssl rand -hex 32)`;
}

/**
 * Kinds whose keys predate domain separation: HMAC-SHA256(secret, value), no label. Kept so
 * that every stored user, customer and device key stays valid (docs/SECURITY.md, migration).
 */
const UNLABELLED_KINDS: ReadonlySet<string> = new Set(["u", "c", "d"]);
const KIND = /^[a-z]{1,8}$/;

/**
 * A pseudonymous key: HMAC-SHA256 with a secret, hex, truncated to 32 characters (128 bits:
 * collisions are not a practical concern), after `<kind>_`. The user key (`u`) is the only user
 * identifier allowed in table keys, queue metadata, logs, metrics and audit entries.
 *
 * Every kind but the three unlabelled ones hashes `paysync.pseudonym.<kind>` and a NUL before
 * the value, so the same value under two kinds gives unrelated keys.
 *
 * @example
 * const userKey = pseudonymousKey(secret, "user-123"); // "u_3f2a…"
 */
export function pseudonymousKey(secret: string, value: string, kind = "u"): string {
  const problem = pseudonymSecretProblem(secret);
  if (problem !== undefined) throw new Error(problem);
  if (!KIND.test(kind)) throw new Error(`pseudonym kind must be 1–8 lowercase letters, got '${kind}'`);
  const message = UNLABELLED_KINDS.has(kind) ? value : `paysync.pseudonym.${kind}\u0000${value}`;
  return `${kind}_${createHmac("sha256", secret).update(message, "utf8").digest("hex").slice(0, 32)}`;
}

/** Ids a device sends (deviceId, opId, entityId, sessionId) match this pattern, nothing else. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
