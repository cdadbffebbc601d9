import { HandoffRequestSchema, HandoffResponseSchema, SessionIdParamsSchema } from "@paysync/core/api";
import { callerId, httpHandler, json, parseBody, parseValue } from "@paysync/aws/base/http";
import { deviceKeyFor, userKeyFor } from "@paysync/aws/crypto/pseudonyms";
import { wiring } from "@paysync/aws/wiring";

/** `POST /v1/sessions/{sessionId}/handoff`: both devices must be the caller's (404 otherwise). */
export const handler = httpHandler(async (event) => {
  const started = Date.now();
  const userKey = userKeyFor(callerId(event));
  const { sessionId } = parseValue(event.pathParameters ?? {}, SessionIdParamsSchema, "path");
  const request = parseBody(event, HandoffRequestSchema);
  const result = await wiring.handoffService().handoff(userKey, sessionId, request);
  // The delivery names the receiving device: it is the one given the session's snapshot.
  await wiring.readAudit().record({ actor: "device", action: "read.handoff", userKey, deviceKey: deviceKeyFor(userKey, request.toDeviceId), entityType: "therapeutic_session", outcome: "ok" });
  await wiring.syncTelemetry().audit("sync.handoff", { userKey, entityType: "therapeutic_session", priority: 8, outcome: "ok", latencyMs: Date.now() - started });
  return json(200, HandoffResponseSchema.parse(result));
});
