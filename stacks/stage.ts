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
