import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { pseudonymousKey, pseudonymSecretProblem } from "@paysync/core/pii";

/** A fixed 32-byte secret (hex), so the stability vectors below can be written out. */
const SECRET = "0123456789abcdef".repeat(4);

describe("pseudonymous keys", () => {
  it.each([
    // Computed before domain separation existed: these keys are stored everywhere and must not move.
    ["u", "user-123", "u_909fd201bbd35037ff7bbf32fb3c7f47"],
    ["c", "cus_123", "c_666a7eda88359d17d2e5d1c96ec3b5eb"],
  ])("a %s key of %s is the one stored before domain separation", (kind, value, expected) => {
    // Act
    const key = pseudonymousKey(SECRET, value, kind);

    // Assess
    expect(key).toBe(expected);
  });

  it("a new kind is domain-separated: the same value under it shares nothing with its user key", () => {
    // Prepare
    const value = "same-value";

    // Act
    const userKey = pseudonymousKey(SECRET, value, "u");
    const sessionKey = pseudonymousKey(SECRET, value, "s");
    const entityKey = pseudonymousKey(SECRET, value, "e");

    // Assess
    expect(sessionKey.slice(2)).not.toBe(userKey.slice(2));
    expect(entityKey.slice(2)).not.toBe(sessionKey.slice(2));
    expect(sessionKey).toMatch(/^s_[0-9a-f]{32}$/);
  });

  it("refuses a kind that could smuggle a separator into the label", () => {
    expect(() => pseudonymousKey(SECRET, "v", "s\u0000u")).toThrow(/kind/);
    expect(() => pseudonymousKey(SECRET, "v", "")).toThrow(/kind/);
  });

  it.each([
    ["16 characters, the old minimum", "a-16-char-secret"],
    ["31 bytes of hex", randomBytes(31).toString("hex")],
    ["31 bytes of base64", randomBytes(31).toString("base64")],
    ["a long passphrase", "correct horse battery staple, twice over: correct horse battery staple"],
    ["64 zeros", "0".repeat(64)],
  ])("refuses a secret of %s", (_case, secret) => {
    // Assess
    expect(pseudonymSecretProblem(secret)).toMatch(/32 random bytes/);
    expect(() => pseudonymousKey(secret, "user-123")).toThrow(/32 random bytes/);
  });

  it.each([
    ["32 bytes of hex", randomBytes(32).toString("hex")],
    ["32 bytes of base64", randomBytes(32).toString("base64")],
    ["48 bytes of base64url", randomBytes(48).toString("base64url")],
  ])("accepts a secret of %s", (_case, secret) => {
    expect(pseudonymSecretProblem(secret)).toBeUndefined();
  });
});
