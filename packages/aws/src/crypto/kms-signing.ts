import { createHash } from "node:crypto";
import { GetPublicKeyCommand, SignCommand, type KMSClient } from "@aws-sdk/client-kms";
import { SIGNING_KEY } from "../resources.js";
import type { PublicKeySource, SigningBackend } from "./entitlement-signer.js";

/**
 * The entitlement signing key in KMS. The message is hashed here and sent as a `DIGEST`, so
 * its size never meets KMS's 4 KiB limit on raw messages and the claims never travel to KMS.
 *
 * @example
 * const signer = new EntitlementSigner(kmsSigningBackend(client, keyArn), signingKeyId(keyArn));
 */
export function kmsSigningBackend(client: KMSClient, keyArn: string): SigningBackend & PublicKeySource {
  return {
    async sign(message) {
      const digest = createHash("sha256").update(message).digest();
      const { Signature } = await client.send(new SignCommand({
        KeyId: keyArn, Message: digest, MessageType: "DIGEST", SigningAlgorithm: SIGNING_KEY.signingAlgorithm,
      }));
      if (!Signature) throw new Error("KMS answered Sign without a signature");
      return Signature;
    },
    async publicKeySpki() {
      const { PublicKey, KeySpec, KeyUsage } = await client.send(new GetPublicKeyCommand({ KeyId: keyArn }));
      // A misconfigured key (another spec or usage) must not be published as if it signed entitlements.
      if (!PublicKey || KeySpec !== SIGNING_KEY.keySpec || KeyUsage !== SIGNING_KEY.keyUsage) {
        throw new Error(`the signing key is not a ${SIGNING_KEY.keySpec} ${SIGNING_KEY.keyUsage} key`);
      }
      return PublicKey;
    },
  };
}
