/**
 * The KMS encryption context of every branch-key `GenerateDataKey` and `Decrypt` (envelope.ts):
 * what KMS itself sees of a payload encryption. The payload key's policy (stacks/key-policies.ts)
 * admits its function roles only with exactly this context, so both read it from here. The
 * message-level context (`userKey`, `entityType`, `entityId`, `schema`) never reaches KMS: it
 * binds the data key inside the Encryption SDK message.
 */
export const BRANCH_KEY_KMS_CONTEXT: Readonly<Record<string, string>> = Object.freeze({ purpose: "paysync-branch-key" });
