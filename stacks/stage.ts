/**
 * Stage conventions shared by the stacks. Ephemeral stages (a developer's, CI's, a pull
 * request's) are torn down with everything in them; any other stage keeps its data when a
 * stack or resource is removed.
 */
const EPHEMERAL_STAGE = /^(dev|local|ci|test)(-.*)?$|^pr-\d+$/;

export function isEphemeralStage(stage: string): boolean {
  return EPHEMERAL_STAGE.test(stage);
}
