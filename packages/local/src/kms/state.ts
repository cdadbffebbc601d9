/**
 * The endpoint's keys and aliases, kept in one JSON file (mode 0600, replaced atomically) so that
 * ciphertexts, key states and signing keys survive a restart. Key material lives only here.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";

export const KEY_STATES = ["Enabled", "Disabled", "PendingDeletion"] as const;
export type KeyState = (typeof KEY_STATES)[number];

const lifecycle = {
  createdAt: z.number(),
  description: z.string(),
  // Files written before key states existed have none: their keys were all usable.
  keyState: z.enum(KEY_STATES).default("Enabled"),
  /** Milliseconds since the epoch; only while the key is pending deletion. */
  deletionDate: z.number().optional(),
};

/** An AES-256-GCM key: 32 random bytes, base64. */
const symmetricKey = z.object({
  ...lifecycle,
  keySpec: z.literal("SYMMETRIC_DEFAULT").default("SYMMETRIC_DEFAULT"),
  keyUsage: z.literal("ENCRYPT_DECRYPT").default("ENCRYPT_DECRYPT"),
  material: z.string(),
});

/** A P-256 key pair for ECDSA: the private key as PKCS#8 DER, base64. */
const signingKey = z.object({
  ...lifecycle,
  keySpec: z.literal("ECC_NIST_P256"),
  keyUsage: z.literal("SIGN_VERIFY"),
  privateKey: z.string(),
});

const stateSchema = z.object({
  keys: z.record(z.string(), z.union([signingKey, symmetricKey])),
  aliases: z.record(z.string(), z.string()),
});

export type SymmetricKey = z.infer<typeof symmetricKey>;
export type SigningKey = z.infer<typeof signingKey>;
export type StoredKey = SymmetricKey | SigningKey;
export type KmsState = z.infer<typeof stateSchema>;

export function loadState(stateFile: string): KmsState {
  if (!existsSync(stateFile)) return { keys: {}, aliases: {} };
  // A corrupt state file throws rather than being replaced: that would orphan every ciphertext.
  const parsed = stateSchema.safeParse(JSON.parse(readFileSync(stateFile, "utf8")));
  if (!parsed.success) throw new Error(`The KMS state file is not valid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function saveState(stateFile: string, state: KmsState): void {
  mkdirSync(dirname(stateFile), { recursive: true });
  const temporary = `${stateFile}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temporary, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(temporary, stateFile);
}
