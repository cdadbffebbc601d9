import { JwksResponseSchema } from "@paysync/core/api";
import { DependencyError } from "@paysync/core/errors";
import { errorName, logger } from "@paysync/aws/base/observability";
import { httpHandler, json } from "@paysync/aws/base/http";
import { wiring } from "@paysync/aws/wiring";

/**
 * Public and the same for everyone: shared caches may keep it an hour. A new key is published
 * before it signs anything (docs/PAYMENTS.md), and a device refetches the set on an unknown `kid`.
 */
const CACHE_CONTROL = "public, max-age=3600";

/**
 * `GET /.well-known/jwks.json` (no auth): the JSON Web Key Set that verifies
 * `signedEntitlements` — the signing key's public half, read once per container with
 * `GetPublicKey`. KMS unavailable or the key unusable: `503`, so a device keeps its keys and retries.
 */
export const handler = httpHandler(async () => {
  let jwks;
  try {
    jwks = await wiring.publicKeys().jwks();
  } catch (error) {
    logger.error("public key set not available", { errorName: errorName(error) });
    throw new DependencyError("The signing keys are unavailable; retry shortly");
  }
  return json(200, JwksResponseSchema.parse(jwks), { "cache-control": CACHE_CONTROL });
});
