import { createHmac } from "node:crypto";

/**
 * The pseudonymous user key: HMAC-SHA256 of the user id with a secret, hex, truncated to
 * 32 characters (128 bits: collisions are not a practical concern). It is the only user
 * identifier allowed in table keys, queue metadata, logs, metrics and audit entries.
 *
 * @example
 * const userKey = pseudonymousKey(secret, "user-123"); // "u_3f2a…"
 */
export function pseudonymousKey(secret: string, value: string, prefix = "u"): string {
  if (secret.length < 16) throw new Error("pseudonym secret must be at least 16 characters");
  return `${prefix}_${createHmac("sha256", secret).update(value, "utf8").digest("hex").slice(0, 32)}`;
}

/** Ids a device sends (deviceId, opId, entityId, sessionId) match this pattern, nothing else. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
