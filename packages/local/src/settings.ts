import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { PSEUDONYM_SECRET_BYTES, pseudonymSecretProblem } from "@paysync/core/pii";

/**
 * Local configuration (SPEC.md §7): every setting optional, read once from the
 * environment and validated. Secrets not given are generated once and kept in the data
 * directory, so tokens and signatures stay valid across restarts.
 */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  PAYSYNC_DATA_DIR: z.string().min(1).default(".paysync"),
  LOCAL_JWT_SECRET: z.string().min(16, "LOCAL_JWT_SECRET must be at least 16 characters").optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(8).optional(),
  PAYSYNC_PRICE_TIERS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text === "") return {};
      try {
        return z.record(z.string(), z.enum(["trial", "basic", "premium"])).parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: "custom", message: 'PAYSYNC_PRICE_TIERS must be JSON like {"price_123":"premium"}' });
        return z.NEVER;
      }
    }),
  PAYSYNC_ADMIN_TOKEN: z.string().min(16).optional(),
});

export interface LocalSecrets {
  jwtSecret: string;
  stripeWebhookSecret: string;
  pseudonymSecret: string;
  adminToken: string;
}

export interface LocalSettings {
  port: number;
  dataDir: string;
  priceTiers: Record<string, "trial" | "basic" | "premium">;
  secrets: LocalSecrets;
}

export const LOCAL_JWT_ISSUER = "paysync-local";
export const LOCAL_JWT_AUDIENCE = "paysync";

export class SettingsError extends Error {}

/** Writes a file atomically (write to a temp name, then rename) with owner-only permissions. */
export function writeFileAtomic(path: string, content: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode: 0o600 });
  renameSync(temp, path);
}

function loadOrCreateSecrets(dataDir: string, env: z.infer<typeof EnvSchema>): LocalSecrets {
  const file = join(dataDir, "secrets.json");
  const stored: Partial<LocalSecrets> = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Partial<LocalSecrets>) : {};
  const generated: LocalSecrets = {
    jwtSecret: stored.jwtSecret ?? randomBytes(32).toString("hex"),
    stripeWebhookSecret: stored.stripeWebhookSecret ?? `whsec_${randomBytes(24).toString("hex")}`,
    pseudonymSecret: stored.pseudonymSecret ?? randomBytes(PSEUDONYM_SECRET_BYTES).toString("hex"),
    adminToken: stored.adminToken ?? randomBytes(24).toString("hex"),
  };
  // A weak stored secret is refused, not replaced: a new one would orphan every local user key.
  const problem = pseudonymSecretProblem(generated.pseudonymSecret);
  if (problem !== undefined) throw new SettingsError(`${file}: ${problem}; delete the file (and the local data) to start afresh`);
  if (JSON.stringify(generated) !== JSON.stringify(stored)) writeFileAtomic(file, JSON.stringify(generated, null, 2));
  return {
    jwtSecret: env.LOCAL_JWT_SECRET ?? generated.jwtSecret,
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET ?? generated.stripeWebhookSecret,
    pseudonymSecret: generated.pseudonymSecret,
    adminToken: env.PAYSYNC_ADMIN_TOKEN ?? generated.adminToken,
  };
}

export function loadSettings(environment: NodeJS.ProcessEnv = process.env): LocalSettings {
  const parsed = EnvSchema.safeParse(environment);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new SettingsError(`Invalid setting ${first?.path.join(".") ?? ""}: ${first?.message ?? "invalid"}`);
  }
  const env = parsed.data;
  const dataDir = resolve(env.PAYSYNC_DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return { port: env.PORT, dataDir, priceTiers: env.PAYSYNC_PRICE_TIERS, secrets: loadOrCreateSecrets(dataDir, env) };
}
