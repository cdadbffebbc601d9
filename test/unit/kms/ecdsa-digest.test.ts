import { createHash, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { derSignature, parseDerSignature, privateScalar, signDigest, verifyDigest } from "@paysync/local/kms/ecdsa-digest";

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function p256KeyPair(): { privateKey: KeyObject; publicKey: KeyObject; d: bigint } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = privateKey.export({ format: "jwk" });
  if (!jwk.d) throw new Error("no private scalar");
  return { privateKey, publicKey, d: privateScalar(jwk.d) };
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();

describe("ECDSA P-256 over a precomputed digest", () => {
  it("a signature of a message's SHA-256 digest verifies with node:crypto against the message itself", () => {
    // Prepare
    const { publicKey, d } = p256KeyPair();
    const message = "header.payload";

    // Act
    const signature = signDigest(d, sha256(message));

    // Assess
    expect(verify("sha256", Buffer.from(message), { key: publicKey, dsaEncoding: "der" }, signature)).toBe(true);
  });

  it("a node:crypto signature of a message verifies against the message's digest", () => {
    // Prepare
    const { privateKey, d } = p256KeyPair();
    const message = "header.payload";

    // Act
    const signature = sign("sha256", Buffer.from(message), { key: privateKey, dsaEncoding: "der" });

    // Assess
    expect(verifyDigest(d, sha256(message), signature)).toBe(true);
  });

  it("every signature is new (k is random), and each verifies", () => {
    // Prepare
    const { d } = p256KeyPair();
    const digest = sha256("same message");

    // Act
    const signatures = Array.from({ length: 5 }, () => signDigest(d, digest));

    // Assess
    expect(new Set(signatures.map((signature) => signature.toString("hex"))).size).toBe(5);
    expect(signatures.every((signature) => verifyDigest(d, digest, signature))).toBe(true);
  });

  it("a signature does not verify for another digest", () => {
    // Prepare
    const { d } = p256KeyPair();
    const signature = signDigest(d, sha256("one message"));

    // Act
    const valid = verifyDigest(d, sha256("another message"), signature);

    // Assess
    expect(valid).toBe(false);
  });

  it("a signature does not verify for another key", () => {
    // Prepare
    const signer = p256KeyPair();
    const other = p256KeyPair();
    const digest = sha256("message");

    // Act
    const valid = verifyDigest(other.d, digest, signDigest(signer.d, digest));

    // Assess
    expect(valid).toBe(false);
  });

  /** (r, s) of a good signature, to build malformed or malleated copies that the arithmetic alone would accept. */
  const partsOf = (good: Buffer) => parseDerSignature(good) ?? { r: 0n, s: 0n };
  it.each([
    { name: "an empty signature", signature: () => Buffer.alloc(0) },
    { name: "a truncated signature", signature: (good: Buffer) => good.subarray(0, good.length - 1) },
    { name: "a signature with trailing bytes", signature: (good: Buffer) => Buffer.concat([good, Buffer.of(0)]) },
    { name: "r = 0", signature: (good: Buffer) => derSignature(0n, partsOf(good).s) },
    { name: "s + N in place of s", signature: (good: Buffer) => derSignature(partsOf(good).r, partsOf(good).s + N) },
    { name: "a negative integer", signature: () => Buffer.from("3006020180020101", "hex") },
    {
      name: "an integer padded with needless zero bytes",
      signature: (good: Buffer) => {
        const rLength = good[3] ?? 0;
        const paddedR = Buffer.concat([Buffer.of(0x02, rLength + 2, 0, 0), good.subarray(4, 4 + rLength)]);
        const body = Buffer.concat([paddedR, good.subarray(4 + rLength)]);
        return Buffer.concat([Buffer.of(0x30, body.length), body]);
      },
    },
    {
      name: "the IEEE P1363 form (r || s) instead of DER",
      signature: (good: Buffer) => {
        const { r, s } = partsOf(good);
        return Buffer.from(r.toString(16).padStart(64, "0") + s.toString(16).padStart(64, "0"), "hex");
      },
    },
  ])("$name does not verify", ({ signature }) => {
    // Prepare
    const { d } = p256KeyPair();
    const digest = sha256("message");
    const good = signDigest(d, digest);

    // Act
    const valid = verifyDigest(d, digest, signature(good));

    // Assess
    expect(valid).toBe(false);
  });

  it("a DER signature parses back to the integers it encodes, high bits included", () => {
    // Prepare
    const r = (1n << 255n) + 5n;
    const s = 127n;

    // Act
    const parsed = parseDerSignature(derSignature(r, s));

    // Assess
    expect(parsed).toStrictEqual({ r, s });
  });
});
