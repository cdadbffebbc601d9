/**
 * Entity tags of cached answers (entitlements, crisis resources): a strong tag from a hash of
 * what the answer depends on, and the `If-None-Match` test a `304` needs.
 *
 * @example
 * const tag = etagOf({ directoryVersion: 3, lines });
 * etagMatches('W/"abc", "def"', tag); // true when either is the tag
 */
import { createHash } from "node:crypto";

/** A quoted strong tag of the value's JSON (the caller passes what the answer depends on, in a stable order). */
export function etagOf(value: unknown): string {
  return `"${createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 27)}"`;
}

/** True when an `If-None-Match` header names the tag (a list, weak tags or `*`). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").map((t) => t.trim().replace(/^W\//, "")).some((t) => t === "*" || t === etag);
}
