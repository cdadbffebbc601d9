import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { EntitlementsResponse, SignedEntitlementsResponse } from "@paysync/core/api";
import { errorName, logger, metrics } from "../base/observability.js";
import type { EntitlementSigner } from "../crypto/entitlement-signer.js";

export interface EntitlementsAnswer {
  body: SignedEntitlementsResponse;
  /** False when signing failed: the answer must carry no ETag (docs/PAYMENTS.md). */
  signed: boolean;
}

/**
 * Signs the entitlements answer, and decides what a signing fault means: the answer goes out
 * unsigned (200, no `signedEntitlements`, no ETag) with an error log and an
 * `EntitlementSigningFailed` metric, never a 5xx. A verifying device treats it as a failed
 * refresh — it keeps what it verified before until `validUntil`, then falls back to free — and
 * without an ETag it cannot revalidate an unsigned answer into a `304` later.
 *
 * @example
 * const { body, signed } = await signing.answer(userKey, etag, claims, Date.now());
 */
export class EntitlementSigning {
  constructor(private readonly signer: () => EntitlementSigner) {}

  async answer(userKey: string, etag: string, claims: EntitlementsResponse, nowMs: number): Promise<EntitlementsAnswer> {
    try {
      // The cache key names the user and the state: signatures are per user.
      const signed = await this.signer().sign(`${userKey}${etag}`, claims, nowMs);
      // The body is what was signed, so a reused signature and its body never disagree.
      return { body: { ...signed.claims, signedEntitlements: signed.jws }, signed: true };
    } catch (error) {
      logger.error("entitlements not signed", { errorName: errorName(error) });
      metrics.addMetric("EntitlementSigningFailed", MetricUnit.Count, 1);
      return { body: claims, signed: false };
    }
  }
}
