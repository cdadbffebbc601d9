import { describe, expect, it } from "vitest";
import { useRuntime } from "../helpers/runtime.js";
import { makeOp, syncClient } from "../helpers/sync.js";
import { historyPrefix, opHistoryKey, userPartition } from "@paysync/aws/store/keys";

const rt = useRuntime();
const sync = syncClient(rt);

const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();

/** Phone writes version 1, then tablet writes the same entity from version 0: a conflict. */
async function conflicting(label: string, tier: "basic" | "free", tabletSecondsAgo: number) {
  const user = await sync.user(label, ["phone", "tablet"], tier);
  const entityId = `entry-${label}`;
  const phoneOp = makeOp({ entityType: "mood_entry", entityId, clientTime: at(30) });
  const tabletOp = makeOp({ entityType: "mood_entry", entityId, clientTime: at(tabletSecondsAgo) });
  await sync.push(user.token, user.devices.phone!, [phoneOp]);
  await sync.applied(user.userKey, [phoneOp.opId]);
  await sync.push(user.token, user.devices.tablet!, [tabletOp]);
  const records = await sync.applied(user.userKey, [tabletOp.opId]);
  return { ...user, entityId, phoneOp, tabletOp, outcome: records.get(tabletOp.opId)?.outcome };
}

describe("automatic conflict resolution (basic)", () => {
  it("lets the later writer win and keeps the earlier version in history", async () => {
    // Act
    const { token, userKey, devices, entityId, phoneOp, tabletOp, outcome } = await conflicting("lww-wins", "basic", 10);

    // Assess
    expect(outcome).toBe("applied");
    const entity = await sync.entity(userKey, "mood_entry", entityId);
    expect(entity).toMatchObject({ version: 2, originDeviceId: devices.tablet });
    const history = await sync.query(userPartition(userKey), historyPrefix(userKey, "mood_entry", entityId));
    expect(history.map((h) => [h.version, h.originDeviceId])).toEqual([[1, devices.phone]]);
    const phoneSees = await sync.pullAll(token, devices.phone!);
    expect(phoneSees.map((c) => [c.payload.opId, c.version])).toEqual([[tabletOp.opId, 2]]);
    expect((await sync.pullAll(token, devices.tablet!)).map((c) => c.payload.opId)).toEqual([phoneOp.opId]);
    expect((await rt.request("GET", "/v1/sync/conflicts", { token })).json.conflicts).toEqual([]);
  });

  it("keeps the current version when the incoming op is older, the loser only in history", async () => {
    // Act
    const { token, userKey, devices, entityId, tabletOp, outcome } = await conflicting("lww-loses", "basic", 60);

    // Assess
    expect(outcome).toBe("lost_lww");
    expect(await sync.entity(userKey, "mood_entry", entityId)).toMatchObject({ version: 1, originDeviceId: devices.phone });
    expect(await sync.item(opHistoryKey(userKey, "mood_entry", entityId, tabletOp.opId))).toMatchObject({ originDeviceId: devices.tablet });
    expect(await sync.pullAll(token, devices.phone!)).toEqual([]);
  });
});

describe("manual conflict resolution (free)", () => {
  it("lists a conflict with both sides and leaves the entity as it was", async () => {
    // Act
    const { token, userKey, devices, entityId, phoneOp, tabletOp, outcome } = await conflicting("manual-list", "free", 10);
    const listed = await rt.request("GET", "/v1/sync/conflicts", { token });

    // Assess
    expect(outcome).toBe("conflict");
    expect(await sync.entity(userKey, "mood_entry", entityId)).toMatchObject({ version: 1 });
    expect(listed.status).toBe(200);
    expect(listed.json.conflicts).toEqual([{
      id: tabletOp.opId, entityType: "mood_entry", entityId,
      current: { version: 1, payload: phoneOp.payload, deviceId: devices.phone, clientTime: phoneOp.clientTime },
      incoming: { opId: tabletOp.opId, baseVersion: 0, action: "upsert", payload: tabletOp.payload, deviceId: devices.tablet, clientTime: tabletOp.clientTime },
      detectedAt: expect.any(String),
    }]);
  });

  it.each([
    { resolution: "take_incoming", body: {}, version: 2, payloadOf: (o: any) => o.tabletOp.payload },
    { resolution: "merge", body: { payload: { merged: true } }, version: 2, payloadOf: () => ({ merged: true }) },
    { resolution: "keep_current", body: {}, version: 1, payloadOf: null },
  ])("resolves with $resolution exactly once; a resolution that writes reaches the other devices", async ({ resolution, body, version, payloadOf }) => {
    // Prepare
    const conflict = await conflicting(`manual-${resolution}`, "free", 10);
    const { token, devices, tabletOp } = conflict;
    const resolve = () => rt.request("POST", `/v1/sync/conflicts/${tabletOp.opId}/resolve`, {
      token, headers: { "x-device-id": devices.tablet! }, body: { resolution, ...body },
    });

    // Act
    const first = await resolve();
    const again = await resolve();
    const phoneSees = await sync.pullAll(token, devices.phone!);
    const listed = await rt.request("GET", "/v1/sync/conflicts", { token });

    // Assess
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ id: tabletOp.opId, resolution, version });
    expect(again.status).toBe(409);
    expect(listed.json.conflicts).toEqual([]);
    if (payloadOf) {
      expect(phoneSees).toEqual([expect.objectContaining({ version, payload: payloadOf(conflict), originDeviceId: devices.tablet })]);
    } else {
      expect(phoneSees).toEqual([]);
    }
  });

  it("answers 404 for a conflict of another user", async () => {
    // Prepare
    const { tabletOp } = await conflicting("manual-owner", "free", 10);
    const stranger = await sync.user("stranger", []);

    // Act
    const response = await rt.request("POST", `/v1/sync/conflicts/${tabletOp.opId}/resolve`, { token: stranger.token, body: { resolution: "keep_current" } });

    // Assess
    expect(response.status).toBe(404);
  });
});
