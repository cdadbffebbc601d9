import { timingSafeEqual } from "node:crypto";
import { UnauthorizedError } from "@paysync/core/errors";

/**
 * The operators' admin routes (`/admin/*`): `Authorization: Bearer <ops token>`, compared in
 * constant time with the `OPS_ADMIN_TOKEN` secret (locally the admin token `npm start` prints,
 * the same one `/ops` takes). A user's JWT, a wrong or missing token: `401`, nothing said of why.
 *
 * @example
 * requireOpsToken(header(event, "authorization"), config.secret("OPS_ADMIN_TOKEN"));
 */
export function requireOpsToken(authorization: string | undefined, opsToken: string): void {
  const given = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization ?? "")?.[1];
  if (given === undefined || !sameSecret(given, opsToken)) throw new UnauthorizedError("The ops token is required");
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
