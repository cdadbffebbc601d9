import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { pseudonymousKey } from "@paysync/core/pii";
import { useRuntime, scanAll } from "../helpers/runtime.js";
import { paymentsLanded, setTier, type PaidState } from "../helpers/crisis-payments.js";
import { deviceKey, ENTITY_PREFIX, entityKey, feedPartition, historyPrefix, type TableKey, userPartition } from "@paysync/aws/store/keys";

const rt = useRuntime();
const userKeyOf = (userId: string) => pseudonymousKey(rt.secrets.pseudonymSecret, userId, "u");
let userSeq = 0;
const newUser = (label: string) => `crisis-${Date.now()}-${++userSeq}-${label}`;

const PLAN = {
  warningSigns: ["cannot sleep"], copingStrategies: ["walk the dog"], reasonsForLiving: ["MARKER-my-sister"],
  distractions: [], peopleToAskForHelp: ["Sam"], professionalsToContact: ["Dr. Lee"], makingEnvironmentSafe: [],
};
const CONTACTS = [{ name: "MARKER-Sam", phone: "+1 555 0100", relationship: "friend" }];

/** A new user with devices; device ids are global, so each gets a unique suffix: `d("phone")`. */
async function userWithDevices(label: string, names: string[]) {
  const userId = newUser(label);
  const token = await rt.token(userId);
  const d = (name: string) => `${name}-${userId.slice(7)}`;
  for (const name of names) {
    const response = await rt.request("POST", "/v1/devices", { token, body: { deviceId: d(name), platform: "ios" } });
    expect(response.status).toBe(201);
  }
  return { userId, token, userKey: userKeyOf(userId), d };
}

const item = async (key: TableKey) =>
  (await rt.dynamo.send(new GetCommand({ TableName: rt.resources.tables.Sync, Key: key, ConsistentRead: true }))).Item;

const query = async (pk: string, prefix?: string) => (await rt.dynamo.send(new QueryCommand({
  TableName: rt.resources.tables.Sync, ConsistentRead: true,
  KeyConditionExpression: prefix ? "pk = :pk AND begins_with(sk, :prefix)" : "pk = :pk",
  ExpressionAttributeValues: prefix ? { ":pk": pk, ":prefix": prefix } : { ":pk": pk },
}))).Items ?? [];

const feedOf = (userKey: string, deviceId: string) => query(feedPartition(userKey, deviceId));
const decrypt = (userKey: string, entityType: string, cipher: string) => rt.cipher().decrypt(cipher, { userKey, entityType });

describe("crisis resources and activation whatever the user pays", () => {
  async function resourcesThenActivation(label: string, paid?: PaidState) {
    const { userId, token, d } = await userWithDevices(label, ["phone"]);
    if (paid) await setTier(rt, userId, paid);
    const resources = await rt.request("GET", "/v1/crisis/resources", { token });
    const activation = await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: d("phone"), level: "high", source: "button" } });
    return { resources, activation };
  }

  function assessAnswers({ resources, activation }: Awaited<ReturnType<typeof resourcesThenActivation>>) {
    expect(resources.status).toBe(200);
    expect(resources.json).toEqual({
      hotline: { name: "988 Suicide & Crisis Lifeline", call: "988", text: "988", chatUrl: "https://988lifeline.org/chat/" },
      region: "US", lines: expect.any(Array), fallback: expect.any(Array), directoryVersion: expect.any(Number),
      safetyPlan: null, emergencyContacts: [], crisisMode: { active: false, level: null, source: null, activatedAt: null },
    });
    expect(resources.json.lines.map((line: { call?: string }) => line.call)).toContain("988");
    expect(activation.status).toBe(200);
    expect(activation.json.crisisMode).toMatchObject({ active: true, level: "high", source: "button" });
    expect(activation.json.hotline.call).toBe("988");
  }

  it("answer 200 with the 988 hotline for a user who never subscribed (free)", async () => {
    // Act
    const answers = await resourcesThenActivation("free");

    // Assess
    assessAnswers(answers);
  });

  // Needs the payments issue's webhook worker; skipped (and reported) until it lands.
  it.skipIf(!paymentsLanded()).each(["premium", "grace_period"] as const)("answer 200 with the 988 hotline for a %s user", async (paid) => {
    // Act
    const answers = await resourcesThenActivation(paid, paid);

    // Assess
    assessAnswers(answers);
  });
});

describe("crisis activation", () => {
  it("reaches the feed of every other device as a priority-10 change, not the origin's", async () => {
    // Prepare
    const { token, userKey, d } = await userWithDevices("fanout", ["phone", "tablet", "laptop"]);

    // Act
    const response = await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: d("phone"), level: "imminent", source: "button" } });

    // Assess
    expect(response.status).toBe(200);
    expect(await feedOf(userKey, d("phone"))).toEqual([]);
    for (const deviceId of [d("tablet"), d("laptop")]) {
      const feed = await feedOf(userKey, deviceId);
      expect(feed).toHaveLength(1);
      expect(feed[0]).toMatchObject({ entityType: "crisis_state", entityId: "current", priority: 10, originDeviceId: d("phone"), version: 1 });
      expect(await decrypt(userKey, "crisis_state", feed[0]!.payloadCipher)).toMatchObject({ active: true, level: "imminent", source: "button" });
    }
    expect((await item(deviceKey(userKey, d("phone"))))?.crisisMode).toBe(true);
  });

  it("answers with the stored safety plan and contacts, and resolving clears every device's flag", async () => {
    // Prepare
    const { token, userKey, d } = await userWithDevices("resolve", ["phone", "tablet"]);
    await rt.request("PUT", "/v1/crisis/safety-plan", { token, body: PLAN, headers: { "x-device-id": d("phone") } });
    await rt.request("PUT", "/v1/crisis/contacts", { token, body: { contacts: CONTACTS }, headers: { "x-device-id": d("phone") } });
    const activation = await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: d("tablet"), level: "moderate", source: "clinician" } });

    // Act
    const resolution = await rt.request("POST", "/v1/crisis/resolve", { token, body: { deviceId: d("phone") } });

    // Assess
    expect(activation.json.safetyPlan).toEqual(PLAN);
    expect(activation.json.emergencyContacts).toEqual(CONTACTS);
    expect(resolution.status).toBe(200);
    expect(resolution.json).toEqual({ crisisMode: { active: false, level: null, source: null, activatedAt: null } });
    expect((await item(deviceKey(userKey, d("tablet"))))?.crisisMode).toBe(false);
    const tabletStates = (await feedOf(userKey, d("tablet"))).filter((c) => c.entityType === "crisis_state");
    expect(tabletStates.map((c) => c.version)).toEqual([2]);
    expect((await rt.request("GET", "/v1/crisis/resources", { token })).json.crisisMode.active).toBe(false);
  });
});

describe("crisis call latency", () => {
  it("is recorded for every crisis call in the audit trail, under the pseudonymous key only", async () => {
    // Prepare
    const { userId, token, userKey, d } = await userWithDevices("audit", ["phone"]);

    // Act
    await rt.request("GET", "/v1/crisis/resources", { token });
    await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: d("phone"), level: "high", source: "button" } });
    await rt.request("POST", "/v1/crisis/resolve", { token, body: { deviceId: d("phone") } });

    // Assess
    const entries = (await scanAll(rt.dynamo, {
      TableName: rt.resources.tables.Audit, FilterExpression: "userKey = :u", ExpressionAttributeValues: { ":u": userKey }, ConsistentRead: true,
    }));
    const calls = entries.filter((e) => e.action !== "crisis.slo_breach");
    expect(calls.map((e) => e.action).sort()).toEqual(["crisis.activate", "crisis.resolve", "crisis.resources"]);
    expect(calls.every((e) => e.outcome === "ok" && typeof e.latencyMs === "number" && e.latencyMs > 0)).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(userId);
  });
});

describe("crisis data never loses a write", () => {
  it("keeps both of two concurrent safety-plan edits: one in history, the last committed current", async () => {
    // Prepare
    const { token, userKey, d } = await userWithDevices("concurrent", ["phone", "tablet"]);
    const fromPhone = { ...PLAN, copingStrategies: ["phone edit"] };
    const fromTablet = { ...PLAN, copingStrategies: ["tablet edit"] };

    // Act
    const answers = await Promise.all([
      rt.request("PUT", "/v1/crisis/safety-plan", { token, body: fromPhone, headers: { "x-device-id": d("phone") } }),
      rt.request("PUT", "/v1/crisis/safety-plan", { token, body: fromTablet, headers: { "x-device-id": d("tablet") } }),
    ]);

    // Assess
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map((a) => a.json.version).sort()).toEqual([1, 2]);
    const last = answers[0]!.json.version === 2 ? fromPhone : fromTablet;
    const first = last === fromPhone ? fromTablet : fromPhone;
    const current = await item(entityKey(userKey, "safety_plan", "current"));
    expect(current?.version).toBe(2);
    expect(await decrypt(userKey, "safety_plan", current!.payloadCipher)).toEqual(last);
    const history = await query(userPartition(userKey), historyPrefix(userKey, "safety_plan", "current"));
    expect(history).toHaveLength(1);
    expect(await decrypt(userKey, "safety_plan", history[0]!.payloadCipher)).toEqual(first);
    expect((await rt.request("GET", "/v1/crisis/resources", { token })).json.safetyPlan).toEqual(last);
  });
});

describe("a burst of one user's activations", () => {
  it("50 parallel activations from 5 devices all answer 200, and only a few of them write", async () => {
    // Prepare
    const names = ["d1", "d2", "d3", "d4", "d5"];
    const { token, userKey, d } = await userWithDevices("burst", names);
    const levels = ["moderate", "high", "moderate", "high", "moderate"] as const;

    // Act
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: d(names[i % 5]!), level: levels[i % 5], source: "button" } })));

    // Assess
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(answers.every((a) => a.json.crisisMode.active === true && a.json.degraded === undefined)).toBe(true);
    const state = await item(entityKey(userKey, "crisis_state", "current"));
    // A repeat at the same or a lower level from a device already flagged writes nothing.
    expect(state?.version).toBeLessThanOrEqual(10);
    expect(await decrypt(userKey, "crisis_state", state!.payloadCipher)).toMatchObject({ active: true, level: "high" });
    for (const name of names) expect((await item(deviceKey(userKey, d(name))))?.crisisMode).toBe(true);
  });
});

describe("the safety plan is emptied only on purpose", () => {
  it.each([
    { case: "an empty body", body: {} },
    { case: "a plan of empty sections", body: { warningSigns: [], copingStrategies: [], reasonsForLiving: [] } },
  ])("a PUT with $case is a 400 and keeps the stored plan", async ({ body }) => {
    // Prepare
    const { token, userKey, d } = await userWithDevices("plan-wipe", ["phone", "tablet"]);
    expect((await rt.request("PUT", "/v1/crisis/safety-plan", { token, body: PLAN, headers: { "x-device-id": d("phone") } })).status).toBe(200);

    // Act
    const response = await rt.request("PUT", "/v1/crisis/safety-plan", { token, body, headers: { "x-device-id": d("phone") } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("validation_error");
    expect((await item(entityKey(userKey, "safety_plan", "current")))?.version).toBe(1);
    expect(await feedOf(userKey, d("tablet"))).toHaveLength(1);
    expect((await rt.request("GET", "/v1/crisis/resources", { token })).json.safetyPlan).toEqual(PLAN);
  });

  it("DELETE clears it: the plan goes to history and every other device is told", async () => {
    // Prepare
    const { token, userKey, d } = await userWithDevices("plan-clear", ["phone", "tablet"]);
    await rt.request("PUT", "/v1/crisis/safety-plan", { token, body: PLAN, headers: { "x-device-id": d("phone") } });

    // Act
    const response = await rt.request("DELETE", "/v1/crisis/safety-plan", { token, headers: { "x-device-id": d("phone") } });

    // Assess
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ entityType: "safety_plan", version: 2, priority: 10 });
    expect((await rt.request("GET", "/v1/crisis/resources", { token })).json.safetyPlan).toBeNull();
    const history = await query(userPartition(userKey), historyPrefix(userKey, "safety_plan", "current"));
    expect(await decrypt(userKey, "safety_plan", history[0]!.payloadCipher)).toEqual(PLAN);
    expect((await feedOf(userKey, d("tablet"))).map((c) => c.action)).toEqual(["upsert", "delete"]);
  });
});

describe("crisis writes are stored encrypted", () => {
  it.each([
    { route: "/v1/crisis/safety-plan", body: PLAN, entityType: "safety_plan", marker: "MARKER-my-sister" },
    { route: "/v1/crisis/contacts", body: { contacts: CONTACTS }, entityType: "emergency_contacts", marker: "MARKER-Sam" },
  ])("$entityType: no plaintext in the entity or feed items", async ({ route, body, entityType, marker }) => {
    // Prepare
    const { token, userKey, d } = await userWithDevices(`enc-${entityType}`, ["phone", "tablet"]);

    // Act
    const response = await rt.request("PUT", route, { token, body, headers: { "x-device-id": d("phone") } });

    // Assess
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ entityType, version: 1, priority: 10 });
    const entity = await item(entityKey(userKey, entityType, "current"));
    const feed = await feedOf(userKey, d("tablet"));
    expect(feed).toHaveLength(1);
    expect(JSON.stringify([entity, feed])).not.toContain(marker);
    expect(JSON.stringify([entity, feed])).not.toContain("555 0100");
    expect(await decrypt(userKey, entityType, entity!.payloadCipher)).toEqual(body);
  });
});

describe("crisis requests that must change nothing", () => {
  it.each([
    { case: "activation for another user's device", method: "POST", route: "/v1/crisis/activate", body: (other: string) => ({ deviceId: other, level: "high", source: "button" }), header: false },
    { case: "resolution for another user's device", method: "POST", route: "/v1/crisis/resolve", body: (other: string) => ({ deviceId: other }), header: false },
    { case: "a safety plan from another user's device", method: "PUT", route: "/v1/crisis/safety-plan", body: () => PLAN, header: true },
    { case: "contacts from another user's device", method: "PUT", route: "/v1/crisis/contacts", body: () => ({ contacts: CONTACTS }), header: true },
  ])("answer 404 to $case and reveal nothing", async ({ method, route, body, header }) => {
    // Prepare
    const { token, userKey } = await userWithDevices("owner", ["phone"]);
    const other = await userWithDevices("other", ["phone"]);
    const otherDevice = other.d("phone");

    // Act
    const response = await rt.request(method, route, { token, body: body(otherDevice), headers: header ? { "x-device-id": otherDevice } : {} });

    // Assess
    expect(response.status).toBe(404);
    expect(response.json.error).toEqual({ code: "not_found", message: "Device not found" });
    expect(await query(userPartition(userKey), ENTITY_PREFIX)).toEqual([]);
    expect(await query(userPartition(other.userKey), ENTITY_PREFIX)).toEqual([]);
    expect(await feedOf(other.userKey, otherDevice)).toEqual([]);
  });

  it.each([
    { case: "activation that is not JSON", method: "POST", route: "/v1/crisis/activate", body: "{level" },
    { case: "activation without a level", method: "POST", route: "/v1/crisis/activate", body: { deviceId: "phone", source: "button" } },
    { case: "activation with an unknown level", method: "POST", route: "/v1/crisis/activate", body: { deviceId: "phone", level: "extreme", source: "button" } },
    { case: "activation with an extra field", method: "POST", route: "/v1/crisis/activate", body: { deviceId: "phone", level: "high", source: "button", tier: "premium" } },
    { case: "activation with a malformed device id", method: "POST", route: "/v1/crisis/activate", body: { deviceId: "phone/../x", level: "high", source: "button" } },
    { case: "resolution without a device", method: "POST", route: "/v1/crisis/resolve", body: {} },
    { case: "a safety plan without X-Device-Id", method: "PUT", route: "/v1/crisis/safety-plan", body: PLAN, device: null },
    { case: "a safety plan with an unknown section", method: "PUT", route: "/v1/crisis/safety-plan", body: { ...PLAN, diary: ["x"] }, device: "phone" },
    { case: "a safety plan with an empty item", method: "PUT", route: "/v1/crisis/safety-plan", body: { ...PLAN, warningSigns: [" "] }, device: "phone" },
    { case: "contacts with a bad phone number", method: "PUT", route: "/v1/crisis/contacts", body: { contacts: [{ name: "Sam", phone: "call me" }] }, device: "phone" },
    { case: "contacts that are not a list", method: "PUT", route: "/v1/crisis/contacts", body: { contacts: "Sam" }, device: "phone" },
  ])("answer 400 to $case and store nothing", async ({ method, route, body, device }) => {
    // Prepare
    const { token, userKey, d } = await userWithDevices("bad", ["phone", "tablet"]);
    const sent = typeof body === "object" && "deviceId" in body && body.deviceId === "phone" ? { ...body, deviceId: d("phone") } : body;

    // Act
    const response = await rt.request(method, route, { token, body: sent, headers: device ? { "x-device-id": d(device) } : {} });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("validation_error");
    expect(await query(userPartition(userKey), ENTITY_PREFIX)).toEqual([]);
    expect(await feedOf(userKey, d("tablet"))).toEqual([]);
    expect((await item(deviceKey(userKey, d("phone"))))?.crisisMode).toBe(false);
  });

  it("answers 401 without a token", async () => {
    // Act
    const response = await rt.request("GET", "/v1/crisis/resources");

    // Assess
    expect(response.status).toBe(401);
  });
});
