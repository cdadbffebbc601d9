import { parameter } from "./config.js";
import { PayloadCipher } from "./envelope.js";

let cipher: PayloadCipher | undefined;

/** The function's one payload cipher (its data-key cache lives as long as the container). */
export function payloadCipher(): PayloadCipher {
  cipher ??= new PayloadCipher({ keyArn: parameter("KMS_KEY_ARN") });
  return cipher;
}
