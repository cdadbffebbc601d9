import { createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { derToJoseSignature, EntitlementSigner, type SigningBackend } from "@paysync/aws/crypto/entitlement-signer";

const NOW = 1_780_000_000_000;

/** A P-256 key in process, answering like KMS: DER signatures, DER SubjectPublicKeyInfo. */
function localBackend() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const calls = { sign: 0, publicKey: 0 };
  const backend: SigningBackend = {
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
    const signer = new EntitlementSigner(backend);

    // Act
    const jws = await signer.sign("u1:etag", claims, NOW);
    const jwk = await signer.publicJwk();

    // Assess
    const [header, payload] = jws.split(".");
    expect(JSON.parse(Buffer.from(header ?? "", "base64url").toString())).toEqual({ alg: "ES256", typ: "JWT", kid: jwk.kid });
    expect(JSON.parse(Buffer.from(payload ?? "", "base64url").toString())).toEqual({ ...claims, iat: NOW / 1000, exp: NOW / 1000 + 7 * 86_400 });
    expect(verifies(jws, jwk)).toBe(true);
  });

  it("fails to verify after any byte of the claims changes", async () => {
    // Prepare
    const { backend } = localBackend();
    const signer = new EntitlementSigner(backend);
    const jws = await signer.sign("u1:etag", claims, NOW);
    const jwk = await signer.publicJwk();
    const [header, payload, signature] = jws.split(".") as [string, string, string];
    const bytes = Buffer.from(payload, "base64url");

    // Act
    const results = [...bytes.keys()].map((i) => {
      const tampered = Buffer.from(bytes);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      return verifies(`${header}.${tampered.toString("base64url")}.${signature}`, jwk);
    });

    // Assess
    expect(results.every((ok) => !ok)).toBe(true);
  });

  it("signs once per state, not per read, and again for a new state", async () => {
    // Prepare
    const { backend, calls } = localBackend();
    const signer = new EntitlementSigner(backend);

    // Act
    const first = await signer.sign("u1:a", claims, NOW);
    const again = await signer.sign("u1:a", claims, NOW + 60_000);
    await signer.sign("u1:b", { ...claims, tier: "basic" }, NOW + 60_000);

    // Assess
    expect(again).toBe(first);
    expect(calls).toEqual({ sign: 2, publicKey: 1 });
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
