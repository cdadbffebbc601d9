/**
 * The crisis resources answer (`GET /v1/crisis/resources`, and the answer to an activation):
 * the 988 hotline always, the safety plan, the emergency contacts and crisis mode. Pure:
 * storage hands in what it read, decrypted.
 *
 * @example
 * composeResources({ state: undefined, safetyPlan: undefined, contacts: undefined });
 * // { hotline: CRISIS_HOTLINE, safetyPlan: null, emergencyContacts: [], crisisMode: { active: false, … } }
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

/** Missing pieces are empty, never an error: a person in crisis always gets the hotline. */
export function composeResources(data: StoredCrisisData): CrisisResourcesResponse {
  return {
    hotline: CRISIS_HOTLINE,
    safetyPlan: data.safetyPlan ?? null,
    emergencyContacts: data.contacts ?? [],
    crisisMode: crisisModeOf(data.state ?? INACTIVE_CRISIS_STATE),
  };
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
