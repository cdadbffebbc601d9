import { request as httpRequest } from "node:http";
import { gunzipSync } from "node:zlib";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { paymentsLanded } from "../helpers/crisis-payments.js";
import { eventually, useRuntime } from "../helpers/runtime.js";
import { subscriptionEvent } from "../helpers/stripe-factories.js";
import { makeOp, syncClient } from "../helpers/sync.js";
import { deviceKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
const sync = syncClient(rt);

const PLAN = {
  warningSigns: ["cannot sleep"], copingStrategies: ["walk"], reasonsForLiving: ["my sister"],
  distractions: [], peopleToAskForHelp: [], professionalsToContact: [], makingEnvironmentSafe: [],
};
const opIdsOf = (changes: any[]) => changes.map((c) => c.payload?.opId as string);

describe("two devices of one user", () => {
  it("converge: each sees the other's ops exactly once, in order, and never its own", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("converge", ["phone", "tablet"], "basic");
    const shared = "shared-entry";
    const fromPhone = [makeOp({ entityId: shared }), makeOp(), makeOp({ entityType: "mood_entry" })];
    const fromTablet = [makeOp(), makeOp({ entityType: "user_profile" })];

    // Act
    const pushed = await Promise.all([sync.push(token, devices.phone!, fromPhone), sync.push(token, devices.tablet!, fromTablet)]);
    await sync.applied(userKey, [...fromPhone, ...fromTablet].map((o) => o.opId));
    const second = makeOp({ entityId: shared, baseVersion: 1 });
    second.payload = { opId: second.opId, note: "edited" };
    await sync.push(token, devices.tablet!, [second]);
    await sync.applied(userKey, [second.opId]);
    const phoneSees = await sync.pullAll(token, devices.phone!);
    const tabletSees = await sync.pullAll(token, devices.tablet!);

    // Assess
    for (const response of pushed) {
      expect(response.status).toBe(200);
      expect(response.json.results.every((r: any) => r.status === "queued" && r.lane === "standard" && r.priority <= 4)).toBe(true);
    }
    expect(opIdsOf(phoneSees).sort()).toEqual([...fromTablet.map((o) => o.opId), second.opId].sort());
    expect(opIdsOf(tabletSees).sort()).toEqual(fromPhone.map((o) => o.opId).sort());
    expect(phoneSees.every((c) => c.originDeviceId === devices.tablet)).toBe(true);
    expect(tabletSees.every((c) => c.originDeviceId === devices.phone)).toBe(true);
    expect(phoneSees.find((c) => c.entityId === shared)).toMatchObject({ version: 2, payload: { note: "edited" } });
    const seqs = phoneSees.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(await sync.entity(userKey, "check_in", shared)).toMatchObject({ version: 2 });
  });

  it("apply an op pushed twice once, whether it is still queued or already applied", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("twice", ["phone", "tablet"], "basic");
    const op = makeOp();

    // Act
    const first = await sync.push(token, devices.phone!, [op, op]);
    const whileQueued = await sync.push(token, devices.phone!, [op]);
    await sync.applied(userKey, [op.opId]);
    const afterApplied = await sync.push(token, devices.phone!, [op]);
    const feed = await sync.pullAll(token, devices.tablet!);

    // Assess
    expect(first.json.results.map((r: any) => r.status)).toEqual(["queued", "duplicate"]);
    expect(whileQueued.json.results[0].status).toBe("duplicate");
    expect(afterApplied.json.results[0].status).toBe("duplicate");
    expect(opIdsOf(feed)).toEqual([op.opId]);
    expect(await sync.entity(userKey, op.entityType, op.entityId)).toMatchObject({ version: 1 });
    expect(await sync.pendingCount(userKey)).toBe(0);
  });

  it("on trial do not receive each other's ops, but do receive crisis changes", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("trial", ["phone", "tablet"], "trial");
    const checkIn = makeOp();
    const plan = makeOp({ entityType: "safety_plan", entityId: "current", payload: PLAN });

    // Act
    const response = await sync.push(token, devices.phone!, [checkIn, plan]);
    await sync.applied(userKey, [checkIn.opId]);
    const tabletSees = await sync.pullAll(token, devices.tablet!);

    // Assess
    expect(response.json.results).toEqual([
      { opId: checkIn.opId, status: "queued", priority: 3, lane: "background" },
      { opId: plan.opId, status: "applied", priority: 10, lane: "crisis" },
    ]);
    expect(tabletSees).toHaveLength(1);
    expect(tabletSees[0]).toMatchObject({ entityType: "safety_plan", priority: 10, originDeviceId: devices.phone, payload: PLAN });
    expect(await sync.entity(userKey, "check_in", checkIn.entityId)).toMatchObject({ version: 1 });
  });
});

describe("devices without cross-device sync", () => {
  it.skipIf(!paymentsLanded())("receive the server's payment changes when the user starts a trial, and still not each other's ops", async () => {
    // Prepare
    const { userId, token, userKey, devices } = await sync.user("trial-start", ["phone", "tablet"]);
    const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const event = subscriptionEvent({
      type: "customer.subscription.created", status: "trialing", customer: `cus_sync${stamp}`, subscriptionId: `sub_sync${stamp}`,
      userId, created: Math.floor(Date.now() / 1000) - 60, priceLookupKey: "premium_monthly", priceMetadataTier: "premium",
    });
    const payload = JSON.stringify(event);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: rt.secrets.stripeWebhookSecret });
    const checkIn = makeOp();

    // Act
    const webhook = await rt.request("POST", "/webhooks/stripe", { body: payload, headers: { "stripe-signature": signature } });
    // Wait on the stored feed, not by pulling: a free device may pull only every 300 s.
    await eventually(async () => ((await sync.feed(userKey, devices.tablet!)).some((c) => c.entityType === "sync_policy") ? true : undefined));
    const serverChanges = await sync.pullAll(token, devices.tablet!);
    await sync.push(token, devices.phone!, [checkIn]);
    await sync.applied(userKey, [checkIn.opId]);
    const after = await sync.pullAll(token, devices.tablet!);

    // Assess
    expect(webhook.status).toBe(200);
    expect(serverChanges.map((c) => [c.entityType, c.priority, c.originDeviceId]).sort()).toEqual([
      ["feature_flags", 7, null], ["payment_state", 7, null], ["sync_policy", 7, null],
    ]);
    expect(serverChanges.find((c) => c.entityType === "sync_policy").payload).toMatchObject({ tier: "trial", crossDeviceSync: false });
    expect(after).toEqual(serverChanges);
  });
});

describe("crisis-class ops in a push", () => {
  it("are applied before the answer, never queued: a crisis-level PHQ-9 reaches the other device at priority 9", async () => {
    // Prepare
    const { token, devices } = await sync.user("crisis", ["phone", "tablet"]);
    const assessment = makeOp({ entityType: "assessment", payload: { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0, 2] } });

    // Act
    const response = await sync.push(token, devices.phone!, [assessment]);
    const tabletSees = await sync.pullAll(token, devices.tablet!);

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.results).toEqual([{ opId: assessment.opId, status: "applied", priority: 9, lane: "crisis" }]);
    expect(tabletSees.map((c) => [c.entityType, c.priority])).toEqual(expect.arrayContaining([["assessment", 9], ["crisis_state", 10]]));
  });

  it("refuse the whole push with 400 when a safety plan is malformed, applying nothing", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("bad-plan", ["phone"]);
    const checkIn = makeOp();

    // Act
    const response = await sync.push(token, devices.phone!, [checkIn, makeOp({ entityType: "safety_plan", payload: { warningSigns: 3 } })]);

    // Assess
    expect(response.status).toBe(400);
    expect(await sync.pendingCount(userKey)).toBe(0);
  });
});

describe("session handoff", () => {
  it("reaches the target device only, as a priority-8 change carrying the snapshot", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("handoff", ["phone", "tablet", "laptop"]);
    const snapshot = { exercise: "body-scan", step: 4, elapsedSeconds: 312 };

    // Act
    const response = await rt.request("POST", "/v1/sessions/mbct-1/handoff", {
      token, body: { fromDeviceId: devices.phone, toDeviceId: devices.tablet, snapshot },
    });
    const [tablet, phone, laptop] = await Promise.all([devices.tablet!, devices.phone!, devices.laptop!].map((d) => sync.pullAll(token, d)));

    // Assess
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ sessionId: "mbct-1", toDeviceId: devices.tablet, priority: 8 });
    expect(tablet).toEqual([expect.objectContaining({
      entityType: "therapeutic_session", entityId: "mbct-1", priority: 8, payload: snapshot, originDeviceId: devices.phone, version: 1,
    })]);
    expect(phone).toEqual([]);
    expect(laptop).toEqual([]);
    const reRegistered = await rt.request("POST", "/v1/devices", { token, body: { deviceId: devices.tablet, platform: "android" } });
    expect(Object.keys(reRegistered.json).sort()).toEqual(["appVersion", "deviceId", "lastSeenAt", "platform", "primary", "registeredAt"]);
    expect(await sync.item(deviceKey(userKey, devices.tablet!))).toMatchObject({ activeSessionId: "mbct-1", platform: "android" });
  });

  it("answers 404 when the target device is another user's", async () => {
    // Prepare
    const mine = await sync.user("handoff-a", ["phone"]);
    const theirs = await sync.user("handoff-b", ["phone"]);

    // Act
    const response = await rt.request("POST", "/v1/sessions/s1/handoff", {
      token: mine.token, body: { fromDeviceId: mine.devices.phone, toDeviceId: theirs.devices.phone, snapshot: {} },
    });

    // Assess
    expect(response.status).toBe(404);
    expect(await sync.feed(theirs.userKey, theirs.devices.phone!)).toEqual([]);
  });
});

describe("pull", () => {
  it("pages with an opaque cursor and says when there is more, and how long to wait", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("paging", ["phone", "tablet"], "premium");
    const ops = Array.from({ length: 5 }, () => makeOp({ entityType: "premium_content" }));
    await sync.push(token, devices.phone!, ops);
    await sync.applied(userKey, ops.map((o) => o.opId));

    // Act
    const first = await sync.pull(token, devices.tablet!, { limit: 3 });
    const second = await sync.pull(token, devices.tablet!, { cursor: first.json.cursor, limit: 3 });
    const early = await sync.pull(token, devices.tablet!, { cursor: second.json.cursor });
    // Premium pulls at most every second: ask again until the interval has passed.
    const empty = await eventually(async () => {
      const response = await sync.pull(token, devices.tablet!, { cursor: second.json.cursor });
      return response.status === 200 ? response : undefined;
    }, 5_000, 250);

    // Assess
    expect(first.json).toMatchObject({ hasMore: true, minIntervalMs: 1_000 });
    expect(first.json.changes).toHaveLength(3);
    expect(second.json).toMatchObject({ hasMore: false });
    expect(second.json.changes).toHaveLength(2);
    expect(early.status).toBe(429);
    expect(empty.json).toMatchObject({ changes: [], hasMore: false, cursor: second.json.cursor, phase: "feed" });
    expect(opIdsOf([...first.json.changes, ...second.json.changes]).sort()).toEqual(ops.map((o) => o.opId).sort());
  });

  it.each([
    { tier: "free" as const, gzip: true, minIntervalMs: 300_000 },
    { tier: "premium" as const, gzip: false, minIntervalMs: 1_000 },
  ])("compresses for a $tier client that accepts gzip: $gzip", async ({ tier, gzip, minIntervalMs }) => {
    // Prepare
    const { token, devices } = await sync.user(`gzip-${tier}`, ["phone"], tier);

    // Act
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((done, fail) => {
      const req = httpRequest(`${rt.baseUrl}/v1/sync/pull`, { headers: { authorization: `Bearer ${token}`, "x-device-id": devices.phone!, "accept-encoding": "gzip" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", fail);
      req.end();
    });

    // Assess
    expect(raw.headers["content-encoding"]).toBe(gzip ? "gzip" : undefined);
    const body = JSON.parse((gzip ? gunzipSync(raw.body) : raw.body).toString("utf8"));
    // A new user's bootstrap holds one change: the crisis directory every device gets.
    expect(body).toMatchObject({ changes: [{ entityType: "crisis_directory", snapshot: true }], hasMore: false, minIntervalMs });
  });

  it.each(["push", "pull"] as const)("%s answers 404 for a device id of another user", async (route) => {
    // Prepare
    const mine = await sync.user("owner-a", ["phone"]);
    const theirs = await sync.user("owner-b", ["phone"]);

    // Act
    const response = route === "push"
      ? await sync.push(mine.token, theirs.devices.phone!, [makeOp()])
      : await sync.pull(mine.token, theirs.devices.phone!);

    // Assess
    expect(response.status).toBe(404);
  });
});
