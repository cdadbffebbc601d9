import { HandoffRequestSchema, HandoffResponseSchema, SessionIdParamsSchema } from "@paysync/core/api";
import { callerId, httpHandler, json, parseBody, parseValue } from "@paysync/aws/http";
import { userKeyFor } from "@paysync/aws/identity";
import { HandoffService } from "@paysync/aws/sync/handoff-service";
import { auditSync } from "@paysync/aws/sync/sync-telemetry";

let service: HandoffService | undefined;

/** `POST /v1/sessions/{sessionId}/handoff`: both devices must be the caller's (404 otherwise). */
export const handler = httpHandler(async (event) => {
  const started = Date.now();
  const userKey = userKeyFor(callerId(event));
  const { sessionId } = parseValue(event.pathParameters ?? {}, SessionIdParamsSchema, "path");
  const request = parseBody(event, HandoffRequestSchema);
  service ??= new HandoffService();
  const result = await service.handoff(userKey, sessionId, request);
  await auditSync("sync.handoff", { userKey, entityType: "therapeutic_session", priority: 8, outcome: "ok", latencyMs: Date.now() - started });
  return json(200, HandoffResponseSchema.parse(result));
});
