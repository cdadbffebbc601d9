import { pseudonymousKey } from "@paysync/core/pii";
import { config } from "../base/config.js";

/*
 * One secret, several kinds of pseudonym. `u`, `c` and `d` predate domain separation and hash
 * the bare value (their keys are stored everywhere and must not change); any new kind is given
 * its own label by `pseudonymousKey` (`paysync.pseudonym.<kind>`), so the same string as a user
 * id and as, say, a session id yields unrelated keys. The secret is checked to be ≥ 32 random
 * bytes on every use, so a weak one fails the first request rather than minting keys.
 */

/** The caller's pseudonymous key: the only user identifier that storage, queues and logs see. */
export function userKeyFor(userId: string): string {
  return pseudonymousKey(config.secret("PSEUDONYM_SECRET"), userId, "u");
}

/** A Stripe customer id, pseudonymised the same way for keys and message groups. */
export function customerKeyFor(customerId: string): string {
  return pseudonymousKey(config.secret("PSEUDONYM_SECRET"), customerId, "c");
}

/**
 * A device as the audit trail names it: keyed by the user too, so two users' devices that
 * chose the same id get different keys, and a device named after its owner exposes nothing.
 */
export function deviceKeyFor(userKey: string, deviceId: string): string {
  return pseudonymousKey(config.secret("PSEUDONYM_SECRET"), `${userKey}/${deviceId}`, "d");
}
