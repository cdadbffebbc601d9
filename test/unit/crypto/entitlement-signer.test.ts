import { createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  derToJoseSignature, EntitlementSigner, PublicKeySet, SIGNATURE_REUSE_MS, signingKeyId, type PublicKeySource, type SigningBackend,
} from "@paysync/aws/crypto/entitlement-signer";

const NOW = 1_780_000_000_000;
const KEY_ARN = "arn:aws:kms:us-east-1:000000000000:key/4d6f0b8e-1f39-4d5e-9c51-0a8f3c1f7e21";
const KID = signingKeyId(KEY_ARN);

/** A P-256 key in process, answering like KMS: DER signatures, DER SubjectPublicKeyInfo. */
function localBackend() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const calls = { sign: 0, publicKey: 0 };
  const backend: SigningBackend & PublicKeySource = {
    sign: async (message) => { calls.sign++; return sign("sha256", message, { key: privateKey, dsaEncoding: "der" }); },
    publicKeySpki: async () => { calls.publicKey++; return publicKey.export({ format: "der", type: "spki" }); },
  };
  return { backend, calls };
}

function verifies(jws: string, jwk: object): boolean {
  const [header, payload, signature] = jws.split(".");
  const key = createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
  return verify("sha256", Buffer.from(`${header}.${payload}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature ?? "", "base64url"));
}

const claims = { tier: "premium", status: "active", validUntil: new Date(NOW + 7 * 86_400_000).toISOString(), crisisAccess: true };

describe("signed entitlements", () => {
  it("a JWS verifies with the published JWK and carries iat/exp", async () => {
    // Prepare
    const { backend } = localBackend();
    const signer = new EntitlementSigner(backend, KID);

    // Act
    const { jws, claims: signedClaims } = await signer.sign("u1:etag", claims, NOW);
    const { keys: [jwk] } = await new PublicKeySet(backend, KID).jwks();

    // Assess
    const [header, payload] = jws.split(".");
    expect(jwk).toMatchObject({ kty: "EC", crv: "P-256", kid: KID, alg: "ES256", use: "sig" });
    expect(JSON.parse(Buffer.from(header ?? "", "base64url").toString())).toEqual({ alg: "ES256", typ: "JWT", kid: KID });
    expect(JSON.parse(Buffer.from(payload ?? "", "base64url").toString())).toEqual({ ...claims, iat: NOW / 1000, exp: NOW / 1000 + 7 * 86_400 });
    expect(signedClaims).toEqual(claims);
    expect(verifies(jws, jwk!)).toBe(true);
  });

  it("fails to verify after any byte of the claims changes", async () => {
    // Prepare
    const { backend } = localBackend();
    const signer = new EntitlementSigner(backend, KID);
    const { jws } = await signer.sign("u1:etag", claims, NOW);
    const { keys: [jwk] } = await new PublicKeySet(backend, KID).jwks();
    const [header, payload, signature] = jws.split(".") as [string, string, string];
    const bytes = Buffer.from(payload, "base64url");

    // Act
    const results = [...bytes.keys()].map((i) => {
      const tampered = Buffer.from(bytes);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      return verifies(`${header}.${tampered.toString("base64url")}.${signature}`, jwk!);
    });

    // Assess
    expect(results.every((ok) => !ok)).toBe(true);
  });

  it("signs once per state, not per read, and again for a new state", async () => {
    // Prepare
    const { backend, calls } = localBackend();
    const signer = new EntitlementSigner(backend, KID);

    // Act
    const first = await signer.sign("u1:a", claims, NOW);
    const again = await signer.sign("u1:a", { ...claims, validUntil: new Date(NOW + 60_000 + 7 * 86_400_000).toISOString() }, NOW + 60_000);
    await signer.sign("u1:b", { ...claims, tier: "basic" }, NOW + 60_000);

    // Assess
    expect(again).toBe(first);
    expect(calls).toEqual({ sign: 2, publicKey: 0 });
  });

  it("signs again once the reuse window has passed, and never reuses past the signature's exp", async () => {
    // Prepare
    const { backend, calls } = localBackend();
    const signer = new EntitlementSigner(backend, KID);
    const soon = { ...claims, validUntil: new Date(NOW + 60_000).toISOString() };

    // Act
    const first = await signer.sign("u1:a", claims, NOW);
    const later = await signer.sign("u1:a", claims, NOW + SIGNATURE_REUSE_MS);
    await signer.sign("u1:short", soon, NOW);
    await signer.sign("u1:short", soon, NOW + 60_000);

    // Assess
    expect(later.jws).not.toBe(first.jws);
    expect(calls.sign).toBe(4);
  });

  it("the key set reads the public key once, and again after a failure", async () => {
    // Prepare
    const { backend, calls } = localBackend();
    let fail = true;
    const flaky: PublicKeySource = { publicKeySpki: async () => { if (fail) { fail = false; throw new Error("KMS down"); } return backend.publicKeySpki(); } };
    const set = new PublicKeySet(flaky, KID);

    // Act
    const failed = await set.jwks().then(() => "ok", () => "failed");
    const first = await set.jwks();
    const second = await set.jwks();

    // Assess
    expect(failed).toBe("failed");
    expect(second).toBe(first);
    expect(calls.publicKey).toBe(1);
  });

  it.each([
    { name: "a key ARN names its key by a digest, not the ARN", arn: KEY_ARN, ok: true },
    { name: "an alias ARN is refused", arn: "arn:aws:kms:us-east-1:000000000000:alias/paysync", ok: false },
    { name: "a bare key id is refused", arn: "4d6f0b8e-1f39-4d5e-9c51-0a8f3c1f7e21", ok: false },
  ])("kid: $name", ({ arn, ok }) => {
    // Act
    const kid = () => signingKeyId(arn);

    // Assess
    if (ok) expect(kid()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    else expect(kid).toThrow(/not a KMS key ARN/);
  });

  it.each([
    { name: "short r and s are left-padded", der: "3006020101020102", r: "01", s: "02" },
    { name: "a sign byte is dropped", der: `3046022100${"ff".repeat(32)}022100${"80".repeat(32)}`, r: "ff".repeat(32), s: "80".repeat(32) },
  ])("DER to r‖s: $name", ({ der, r, s }) => {
    // Act
    const raw = derToJoseSignature(Buffer.from(der, "hex"));

    // Assess
    expect(raw.toString("hex")).toBe(r.padStart(64, "0") + s.padStart(64, "0"));
  });

  it.each(["", "3100", "30060201010201", "300702010102010200"])("a malformed DER signature %s is refused", (der) => {
    // Act / Assess
    expect(() => derToJoseSignature(Buffer.from(der, "hex"))).toThrow(/malformed/);
  });
});
