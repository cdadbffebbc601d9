/**
 * Who issues the users' JWTs, shared by the HTTP API's JWT authorizer and the WebSocket API's
 * Lambda authorizer so the two can never disagree: any OIDC issuer (Cognito by default), set
 * at deploy time with `PAYSYNC_JWT_ISSUER` and `PAYSYNC_JWT_AUDIENCE` (comma-separated).
 */
const PLACEHOLDER_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_PAYSYNC_PLACEHOLDER";

export function jwtIssuer(): string {
  return process.env.PAYSYNC_JWT_ISSUER ?? PLACEHOLDER_ISSUER;
}

export function jwtAudiences(): string[] {
  return (process.env.PAYSYNC_JWT_AUDIENCE ?? "paysync").split(",");
}
