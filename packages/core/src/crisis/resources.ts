/**
 * The crisis resources answer (`GET /v1/crisis/resources`, and the answer to an activation):
 * the region's crisis lines and the international fallback always, the safety plan, the
 * emergency contacts and crisis mode. Pure: storage hands in what it read, decrypted.
 *
 * @example
 * composeResources({ state: undefined, safetyPlan: undefined, contacts: undefined }, directoryLines(BUNDLED_DIRECTORY, "US"));
 * // { hotline: CRISIS_HOTLINE, region: "US", lines: [988, Crisis Text Line], fallback: [...], directoryVersion: 1, safetyPlan: null, … }
 */
import type { z } from "zod";
import {
  CRISIS_HOTLINE,
  EmergencyContactsRequestSchema,
  SafetyPlanSchema,
  type CrisisResourcesResponse,
  type EmergencyContact,
  type SafetyPlan,
} from "../api/crisis.js";
import { etagOf } from "../etag.js";
import type { DirectoryLines } from "./directory.js";
import { crisisModeOf, CrisisStateSchema, INACTIVE_CRISIS_STATE, type CrisisState } from "./state.js";

/** Stored payload of `emergency_contacts`: the same shape as the PUT body. */
export const EmergencyContactsPayloadSchema = EmergencyContactsRequestSchema;
export type EmergencyContactsPayload = z.infer<typeof EmergencyContactsPayloadSchema>;

/** Payload schema per crisis entity type: pushed ops are validated with it before anything is stored. */
export const CRISIS_PAYLOAD_SCHEMAS = {
  crisis_state: CrisisStateSchema,
  safety_plan: SafetyPlanSchema,
  emergency_contacts: EmergencyContactsPayloadSchema,
} as const;

export interface StoredCrisisData {
  state: CrisisState | undefined;
  /** `undefined` when never written or deleted. */
  safetyPlan: SafetyPlan | undefined;
  contacts: EmergencyContact[] | undefined;
}

/** Missing pieces are empty, never an error: a person in crisis always gets the lines. */
export function composeResources(data: StoredCrisisData, directory: DirectoryLines): CrisisResourcesResponse {
  return {
    hotline: CRISIS_HOTLINE,
    ...directory,
    safetyPlan: data.safetyPlan ?? null,
    emergencyContacts: data.contacts ?? [],
    crisisMode: crisisModeOf(data.state ?? INACTIVE_CRISIS_STATE),
  };
}

/**
 * The ETag of a resources answer: of all of it (lines, plan, contacts, crisis mode are one
 * answer), so a `304` means nothing a device shows has changed. Degraded answers get none: a
 * partial answer must not confirm a device's full copy.
 */
export function resourcesETag(answer: CrisisResourcesResponse): string {
  return etagOf(answer);
}

export interface EntityStamp {
  version: number;
  updatedAt: string;
}

/**
 * The current one of several entities of one crisis type (a device may push its plan under
 * its own entity id): the most recently updated; on a tie, the higher version.
 */
export function latestEntity<T extends EntityStamp>(entities: readonly T[]): T | undefined {
  let latest: T | undefined;
  for (const entity of entities) {
    if (
      latest === undefined ||
      entity.updatedAt > latest.updatedAt ||
      (entity.updatedAt === latest.updatedAt && entity.version > latest.version)
    ) {
      latest = entity;
    }
  }
  return latest;
}
