import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { MAX_TOKEN_LIFETIME_SECONDS, TOKEN_CLOCK_SKEW_SECONDS, tokenTimesRefusal, verifyUserToken } from "@paysync/aws/base/tokens";
import { signDevToken, verifyBearer } from "@paysync/local/jwt";

const SECRET = "unit-test-secret-0123456789";
const NOW = Math.floor(Date.now() / 1000);

/** A dev token with exactly the time claims given (none when absent). */
function tokenWith(times: { iat?: number; exp?: number }): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject("user-tokens").setIssuer("paysync-local").setAudience("paysync");
  if (times.iat !== undefined) jwt.setIssuedAt(times.iat);
  if (times.exp !== undefined) jwt.setExpirationTime(times.exp);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

const CASES = [
  { case: "an hour-long token", times: { iat: NOW, exp: NOW + 3600 }, accepted: true },
  { case: "a token of exactly the longest lifetime", times: { iat: NOW - 10, exp: NOW - 10 + MAX_TOKEN_LIFETIME_SECONDS }, accepted: true },
  { case: "an iat a little ahead (clock skew)", times: { iat: NOW + TOKEN_CLOCK_SKEW_SECONDS - 5, exp: NOW + 3600 }, accepted: true },
  { case: "a short token without iat", times: { exp: NOW + 3600 }, accepted: true },
  { case: "a token without exp", times: { iat: NOW }, accepted: false },
  { case: "a token without any time claim", times: {}, accepted: false },
  { case: "an expired token", times: { iat: NOW - 7200, exp: NOW - 3600 }, accepted: false },
  { case: "a lifetime one second too long", times: { iat: NOW, exp: NOW + MAX_TOKEN_LIFETIME_SECONDS + 1 }, accepted: false },
  { case: "a ten-year token", times: { iat: NOW, exp: NOW + 10 * 365 * 86400 }, accepted: false },
  { case: "an iat in the future beyond the skew", times: { iat: NOW + 3600, exp: NOW + 7200 }, accepted: false },
  { case: "a ten-year token without iat", times: { exp: NOW + 10 * 365 * 86400 }, accepted: false },
];

describe("token times", () => {
  it.each(CASES)("the local gateway accepts $case: $accepted", async ({ times, accepted }) => {
    // Prepare
    const token = await tokenWith(times);

    // Act
    const payload = await verifyBearer(SECRET, `Bearer ${token}`);

    // Assess
    expect(payload !== undefined).toBe(accepted);
  });

  it.each(CASES)("the realtime authorizer accepts $case: $accepted", async ({ times, accepted }) => {
    // Prepare
    const token = await tokenWith(times);

    // Act
    const sub = await verifyUserToken(token, { LOCAL_JWT_SECRET: SECRET });

    // Assess
    expect(sub !== undefined).toBe(accepted);
  });

  it.each(CASES)("the time rule accepts $case: $accepted", ({ times, accepted }) => {
    // Assess
    expect(tokenTimesRefusal(times, NOW) === undefined).toBe(accepted);
  });

  it("dev tokens are accepted by the gateway that checks them", async () => {
    // Act
    const payload = await verifyBearer(SECRET, `Bearer ${await signDevToken(SECRET, "user-tokens")}`);

    // Assess
    expect(payload?.sub).toBe("user-tokens");
  });

  it.each([0, -1, MAX_TOKEN_LIFETIME_SECONDS + 1, 1.5])("no dev token is signed to live %s seconds", async (ttl) => {
    // Assess
    await expect(signDevToken(SECRET, "user-tokens", ttl)).rejects.toThrow(RangeError);
  });
});
