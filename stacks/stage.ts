/**
 * Stage conventions shared by the stacks. Ephemeral stages (a developer's, CI's, a pull
 * request's) are torn down with everything in them; any other stage keeps its data when a
 * stack or resource is removed.
 */
const EPHEMERAL_STAGE = /^(dev|local|ci|test)(-.*)?$|^pr-\d+$/;

export function isEphemeralStage(stage: string): boolean {
  return EPHEMERAL_STAGE.test(stage);
}

/** What names a stage's resources: SST's app name, stage and region. */
export interface StageName {
  name: string;
  stage: string;
  region: string;
}

/** IAM's limit on a role name. */
const MAX_ROLE_NAME = 64;

/**
 * The fixed name of a function's execution role. The payload key's policy names the roles
 * that may use it before they exist (the Storage stack deploys first), so a role's name must
 * be known without a reference to the role. IAM names are global to the account: the region
 * keeps two regions of one stage apart.
 */
export function functionRoleName({ name, stage, region }: StageName, functionId: string): string {
  const roleName = `${stage}-${name}-${region}-${functionId}`;
  if (roleName.length > MAX_ROLE_NAME) {
    throw new Error(`Role name ${roleName} is longer than IAM's ${MAX_ROLE_NAME} characters: use a shorter stage name`);
  }
  return roleName;
}

/** Where SST keeps a stage's secret (`npx sst secrets` and `sst/node/config` read this path). */
export function secretParameterName({ name, stage }: Pick<StageName, "name" | "stage">, secret: string): string {
  return `/sst/${name}/${stage}/Secret/${secret}/value`;
}

/** The alias of a stage's secrets key: its secrets must be written under it (`npm run secrets`). */
export function secretsKeyAlias({ name, stage }: Pick<StageName, "name" | "stage">): string {
  return `alias/${stage}-${name}-secrets`;
}

/** A secret parameter as SSM describes it (no value): its name and the key it is encrypted under. */
export interface StoredSecret {
  name: string;
  keyId?: string;
}

/**
 * Refuses to deploy a stage that lacks one of `required` among its own secrets, or holds one
 * under another key than the stage's secrets key (`sst secrets set` writes under `aws/ssm`).
 * Without this a stage would run on SST's shared `.fallback` value, or none.
 */
export function requireStageSecrets(stage: Pick<StageName, "name" | "stage">, required: readonly string[], stored: readonly StoredSecret[]): void {
  const alias = secretsKeyAlias(stage);
  const byName = new Map(stored.map((secret) => [secret.name, secret]));
  const missing = required.filter((secret) => !byName.has(secretParameterName(stage, secret)));
  const wrongKey = required.filter((secret) => {
    const found = byName.get(secretParameterName(stage, secret));
    return found !== undefined && found.keyId !== alias;
  });
  if (missing.length === 0 && wrongKey.length === 0) return;
  const problems = [
    ...(missing.length > 0 ? [`missing: ${missing.join(", ")}`] : []),
    ...(wrongKey.length > 0 ? [`not under ${alias}: ${wrongKey.join(", ")}`] : []),
  ];
  throw new Error(
    `Stage ${stage.stage} has not got its own secrets (${problems.join("; ")}). ` +
      `Set each with \`npm run secrets -- set --stage ${stage.stage} <NAME>\` after the Storage stack exists.`,
  );
}
