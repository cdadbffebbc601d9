import { SignJWT, jwtVerify, type JWTPayload } from "jose";
import { MAX_TOKEN_LIFETIME_SECONDS, tokenTimesRefusal } from "@paysync/aws/base/tokens";
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER } from "./settings.js";

/** Signs a dev token the local gateway accepts, as Cognito's would be in AWS. */
export async function signDevToken(secret: string, userId: string, ttlSeconds = 12 * 3600): Promise<string> {
  // A token the gateway would refuse is no use to anyone: say so here, not with a 401 later.
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new RangeError(`a token lives 1 to ${MAX_TOKEN_LIFETIME_SECONDS} seconds`);
  }
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuer(LOCAL_JWT_ISSUER)
    .setAudience(LOCAL_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(secret));
}

/**
 * What the HTTP API JWT authorizer does — signature, issuer, audience, expiry — plus the time
 * rules every token meets (`exp` required, bounded lifetime, no future `iat`); `undefined` if any fails.
 */
export async function verifyBearer(secret: string, authorization: string | undefined): Promise<JWTPayload | undefined> {
  const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? "");
  if (!match?.[1]) return undefined;
  try {
    const { payload } = await jwtVerify(match[1], new TextEncoder().encode(secret), {
      issuer: LOCAL_JWT_ISSUER,
      audience: LOCAL_JWT_AUDIENCE,
      algorithms: ["HS256"],
      requiredClaims: ["exp", "sub"],
    });
    if (tokenTimesRefusal(payload) !== undefined) return undefined;
    return typeof payload.sub === "string" && payload.sub.length > 0 ? payload : undefined;
  } catch {
    return undefined;
  }
}
