/**
 * Crisis path service (issue 5). Interface published first so the sync push handler can
 * compile against it; the implementation follows.
 */
import type { CrisisActivateRequest, CrisisModeState, CrisisResourcesResponse, EmergencyContact, SafetyPlan } from "@paysync/core/api";

export type CrisisOpEntityType = "crisis_state" | "safety_plan" | "emergency_contacts" | "assessment";

/** A crisis-class op (priority 9–10) handed over by the sync push handler; never queued. */
export interface CrisisOpInput {
  userKey: string;
  deviceId: string;
  opId: string;
  entityType: CrisisOpEntityType;
  entityId: string;
  action: "upsert" | "delete";
  baseVersion: number;
  clientTime: string;
  payload: unknown;
  priority: 9 | 10;
}

export interface CrisisOpResult {
  status: "applied" | "duplicate";
  version: number;
}

export class CrisisService {
  async applyCrisisOp(_input: CrisisOpInput): Promise<CrisisOpResult> {
    throw new Error("not implemented yet");
  }

  async activate(_userKey: string, _request: CrisisActivateRequest): Promise<CrisisResourcesResponse> {
    throw new Error("not implemented yet");
  }

  async resolve(_userKey: string, _deviceId: string): Promise<{ crisisMode: CrisisModeState }> {
    throw new Error("not implemented yet");
  }

  async putSafetyPlan(_userKey: string, _deviceId: string, _plan: SafetyPlan): Promise<{ version: number; updatedAt: string }> {
    throw new Error("not implemented yet");
  }

  async putContacts(_userKey: string, _deviceId: string, _contacts: EmergencyContact[]): Promise<{ version: number; updatedAt: string }> {
    throw new Error("not implemented yet");
  }

  async resources(_userKey: string): Promise<CrisisResourcesResponse> {
    throw new Error("not implemented yet");
  }
}
