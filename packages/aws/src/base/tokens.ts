/**
 * Verifies a user's JWT where no API Gateway JWT authorizer can: the WebSocket API's `$connect`
 * (WebSocket APIs take only Lambda authorizers). The checks are the HTTP API authorizer's —
 * signature, issuer, audience, expiry (required) and a subject:
 *
 * - in AWS, against the issuer's JSON Web Key Set (`PAYSYNC_JWT_JWKS_URL`, by default
 *   `<issuer>/.well-known/jwks.json`, as Cognito publishes it), with the issuer and audiences
 *   the stacks give the HTTP API (`PAYSYNC_JWT_ISSUER`, `PAYSYNC_JWT_AUDIENCE`);
 * - locally, HS256 dev tokens signed with `LOCAL_JWT_SECRET` (issuer `paysync-local`, audience
 *   `paysync`), as the local gateway checks them.
 *
 * On top of the signature, both apply the same time rules (`tokenTimesRefusal`): `exp` is
 * required, a token lives at most `MAX_TOKEN_LIFETIME_SECONDS`, and an `iat` in the future
 * beyond `TOKEN_CLOCK_SKEW_SECONDS` is refused.
 *
 * @example
 * const sub = await verifyUserToken(token); // undefined when any check fails
 */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";

export const LOCAL_TOKEN_ISSUER = "paysync-local";
export const LOCAL_TOKEN_AUDIENCE = "paysync";

/**
 * Longest lifetime a token may have (`exp − iat`, or `exp − now` without `iat`): a day. Cognito
 * access and id tokens last an hour by default (a day at most); the dev tokens 12 hours. A leaked
 * token that never expires would be a permanent key to someone's therapy data.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** How far clocks may disagree: an `iat` later than now + this is refused, as jose tolerates `exp`/`nbf` none. */
export const TOKEN_CLOCK_SKEW_SECONDS = 60;

/**
 * Why a verified token's times are not acceptable, or `undefined` when they are. Seconds since
 * the epoch, as in the claims.
 *
 * @example
 * tokenTimesRefusal({ iat: now, exp: now + 3600 }, now); // undefined
 * tokenTimesRefusal({ iat: now }, now); // "exp is required"
 */
export function tokenTimesRefusal(claims: { exp?: unknown; iat?: unknown }, nowSeconds = Math.floor(Date.now() / 1000)): string | undefined {
  const { exp, iat } = claims;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return "exp is required";
  if (exp <= nowSeconds) return "the token has expired";
  if (iat !== undefined) {
    if (typeof iat !== "number" || !Number.isFinite(iat)) return "iat must be a number";
    if (iat > nowSeconds + TOKEN_CLOCK_SKEW_SECONDS) return "iat is in the future";
    if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS) return "the token's lifetime is too long";
  }
  // Without iat the remaining lifetime is what can be bounded (a token cannot dodge the rule by omitting it).
  if (exp - nowSeconds > MAX_TOKEN_LIFETIME_SECONDS + TOKEN_CLOCK_SKEW_SECONDS) return "the token's lifetime is too long";
  return undefined;
}

let remoteKeys: { url: string; keys: JWTVerifyGetKey } | undefined;

function keySet(url: string): JWTVerifyGetKey {
  if (remoteKeys?.url !== url) remoteKeys = { url, keys: createRemoteJWKSet(new URL(url)) };
  return remoteKeys.keys;
}

/** The token's subject (the user id) when every check passes, else `undefined`. */
export async function verifyUserToken(token: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  try {
    const localSecret = env.LOCAL_JWT_SECRET;
    const { payload } = localSecret
      ? await jwtVerify(token, new TextEncoder().encode(localSecret), {
        issuer: LOCAL_TOKEN_ISSUER, audience: LOCAL_TOKEN_AUDIENCE, algorithms: ["HS256"], requiredClaims: ["exp", "sub"],
      })
      : await verifyRemote(token, env);
    if (tokenTimesRefusal(payload) !== undefined) return undefined;
    return typeof payload.sub === "string" && payload.sub.length > 0 ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

function verifyRemote(token: string, env: NodeJS.ProcessEnv) {
  const issuer = env.PAYSYNC_JWT_ISSUER;
  const audience = (env.PAYSYNC_JWT_AUDIENCE ?? "").split(",").map((a) => a.trim()).filter(Boolean);
  if (!issuer || audience.length === 0) throw new Error("token issuer and audience are not configured");
  const url = env.PAYSYNC_JWT_JWKS_URL ?? `${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`;
  return jwtVerify(token, keySet(url), { issuer, audience, requiredClaims: ["exp", "sub"] });
}
