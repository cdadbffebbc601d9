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
 * @example
 * const sub = await verifyUserToken(token); // undefined when any check fails
 */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";

export const LOCAL_TOKEN_ISSUER = "paysync-local";
export const LOCAL_TOKEN_AUDIENCE = "paysync";

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
