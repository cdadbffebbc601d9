import { DisableKeyCommand, EnableKeyCommand } from "@aws-sdk/client-kms";
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from "jose";
import { es256Keys, verifyEs256 } from "@paysync/client/jws";
import { EntitlementClaimsSchema, EntitlementsSchema, JwksSchema } from "@paysync/client/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { nowSeconds, paymentsHarness, uid } from "../helpers/payments.js";
import { useRuntime } from "../helpers/runtime.js";
import { checkoutCompletedEvent, subscriptionEvent, type PriceOptions } from "../helpers/stripe-factories.js";

/**
 * Signed entitlements on the real runtime (SPEC §3.1): the gateway, the Entitlements and Jwks
 * functions, and the local KMS endpoint's ECC_NIST_P256 key, checked with `jose` as a device
 * would check them.
 */
const rt = useRuntime();
const pay = paymentsHarness(rt);

const PREMIUM: PriceOptions = { priceId: "price_sig_premium", priceLookupKey: "premium_monthly" };
const BASIC: PriceOptions = { priceId: "price_sig_basic", priceMetadataTier: "basic" };

/** A linked customer on an active subscription of `price`; answers the user id and a way to change the price. */
async function subscriber(price: PriceOptions) {
  const customer = uid("cus");
  const userId = uid("user");
  const t = nowSeconds() - 3_600;
  await pay.deliver(
    checkoutCompletedEvent({ customer, clientReferenceId: userId, created: t, id: uid("evt") }),
    subscriptionEvent({ type: "customer.subscription.created", status: "active", customer, created: t + 10, id: uid("evt"), ...price }),
  );
  await pay.laneDrained();
  const token = await rt.token(userId);
  return {
    userId,
    read: (headers: Record<string, string> = {}) => rt.request("GET", "/v1/me/entitlements", { token, headers }),
    changeTo: async (next: PriceOptions, dt: number) => {
      await pay.deliver(subscriptionEvent({ type: "customer.subscription.updated", status: "active", customer, created: t + dt, id: uid("evt"), ...next }));
      await pay.laneDrained();
    },
  };
}

/** How many requests each KMS operation has received: the local endpoint's count, standing in for CloudTrail. */
async function kmsCalls(operation: string): Promise<number> {
  const answer = (await (await fetch(`${rt.endpoints.kms}/local/requests`)).json()) as { operations: Record<string, number> };
  return answer.operations[operation] ?? 0;
}

const decodePart = (part: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as Record<string, unknown>;

describe("GET /.well-known/jwks.json", () => {
  it("answers the ES256 public key without a token, cacheable", async () => {
    // Act
    const response = await rt.request("GET", "/.well-known/jwks.json");

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(response.json.keys).toHaveLength(1);
    expect(response.json.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(response.json.keys[0]).not.toHaveProperty("d");
  });
});

describe("signedEntitlements (SPEC 3.1)", () => {
  let jwks: ReturnType<typeof createLocalJWKSet>;
  beforeAll(async () => {
    jwks = createLocalJWKSet((await rt.request("GET", "/.well-known/jwks.json")).json as JSONWebKeySet);
  });

  it("verifies with the served JWKS and carries exactly the answer's claims plus iat/exp, exp within validUntil", async () => {
    // Prepare
    const user = await subscriber(PREMIUM);

    // Act
    const response = await user.read();
    const { signedEntitlements, ...answer } = response.json as Record<string, unknown> & { signedEntitlements: string };
    const { payload, protectedHeader } = await compactVerify(signedEntitlements, jwks, { algorithms: ["ES256"] });

    // Assess
    expect(response.status).toBe(200);
    expect(protectedHeader).toMatchObject({ alg: "ES256", typ: "JWT" });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown> & { iat: number; exp: number };
    const { iat, exp, ...rest } = claims;
    expect(rest).toEqual(answer);
    expect(answer).toMatchObject({ tier: "premium", crisisAccess: true });
    expect(exp * 1000).toBeLessThanOrEqual(Date.parse(String(answer.validUntil)));
    expect(iat).toBeLessThan(exp);
  });

  it("the client library's own WebCrypto verifier accepts the answer and its claims, as an app would", async () => {
    // Prepare
    const user = await subscriber(PREMIUM);
    const keys = es256Keys(JwksSchema.parse((await rt.request("GET", "/.well-known/jwks.json")).json).keys);

    // Act
    const body = EntitlementsSchema.parse((await user.read()).json);
    const result = await verifyEs256(body.signedEntitlements ?? "", (kid) => keys.find((k) => k.kid === kid), crypto.subtle);

    // Assess
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(EntitlementClaimsSchema.parse(result.claims)).toMatchObject({ tier: "premium", crisisAccess: true });
  });

  it("fails to verify after any byte of the claims changes", async () => {
    // Prepare
    const user = await subscriber(PREMIUM);
    const [header, payload, signature] = ((await user.read()).json.signedEntitlements as string).split(".") as [string, string, string];
    const bytes = Buffer.from(payload, "base64url");

    // Act
    const outcomes = await Promise.all([...bytes.keys()].map(async (i) => {
      const tampered = Buffer.from(bytes);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      return compactVerify(`${header}.${tampered.toString("base64url")}.${signature}`, jwks).then(() => "verified", () => "refused");
    }));

    // Assess
    expect(bytes.length).toBeGreaterThan(100);
    expect(outcomes.filter((o) => o === "verified")).toEqual([]);
  });

  it("repeated reads of an unchanged state cost one KMS Sign, and a 304 costs none", async () => {
    // Prepare
    const user = await subscriber(PREMIUM);
    const before = await kmsCalls("Sign");

    // Act
    const first = await user.read();
    const repeats = [];
    for (let i = 0; i < 20; i++) repeats.push(await user.read());
    const revalidated = await user.read({ "if-none-match": first.headers.get("etag") ?? "" });
    const after = await kmsCalls("Sign");

    // Assess
    expect(first.status).toBe(200);
    expect(after - before).toBe(1);
    expect(new Set(repeats.map((r) => r.json.signedEntitlements))).toEqual(new Set([first.json.signedEntitlements]));
    expect(new Set(repeats.map((r) => r.headers.get("etag")))).toEqual(new Set([first.headers.get("etag")]));
    expect(revalidated.status).toBe(304);
  });

  it("a tier change gives a new ETag and a new signature, over the new tier", async () => {
    // Prepare
    const user = await subscriber(PREMIUM);
    const before = await user.read();
    const signs = await kmsCalls("Sign");

    // Act
    await user.changeTo(BASIC, 20);
    const after = await user.read({ "if-none-match": before.headers.get("etag") ?? "" });

    // Assess
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(before.headers.get("etag"));
    expect(after.json.signedEntitlements).not.toBe(before.json.signedEntitlements);
    const { payload } = await compactVerify(after.json.signedEntitlements as string, jwks);
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ tier: "basic" });
    expect(await kmsCalls("Sign")).toBe(signs + 1);
  });

  it("a signing fault answers 200 without signedEntitlements or ETag, and signing resumes with the key", async () => {
    // Prepare: a user whose state has no signature cached yet, and the signing key disabled.
    const user = await subscriber(BASIC);
    await rt.kms.send(new DisableKeyCommand({ KeyId: rt.resources.signingKeyArn }));

    // Act
    let unsigned;
    try {
      unsigned = await user.read();
    } finally {
      await rt.kms.send(new EnableKeyCommand({ KeyId: rt.resources.signingKeyArn }));
    }
    const resumed = await user.read();

    // Assess
    expect(unsigned.status).toBe(200);
    expect(unsigned.json).toMatchObject({ tier: "basic", crisisAccess: true });
    expect(unsigned.json).not.toHaveProperty("signedEntitlements");
    expect(unsigned.headers.get("etag")).toBeNull();
    expect(unsigned.headers.get("cache-control")).toBe("no-store");
    expect(resumed.status).toBe(200);
    await expect(compactVerify(resumed.json.signedEntitlements as string, jwks)).resolves.toBeDefined();
    expect(decodePart((resumed.json.signedEntitlements as string).split(".")[1])).toMatchObject({ tier: "basic" });
  });
});
