/**
 * Bootstrap and resync on the local runtime (SPEC.md §4.1): a new device's cursorless pull gets
 * the live state, then the feed — exactly, even while other devices write between its pages.
 * Writes during a run go through the sync worker's own applier, in this process on the same
 * emulators, so each interleaving is the one fast-check chose.
 */
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { OpApplier } from "@paysync/aws/sync/op-applier";
import type { PayloadCipher } from "@paysync/core/ports";
import type { SyncOpMessage } from "@paysync/core/sync/op-message";
import { ENTITY_PREFIX, entityKey, purgeWatermarkKey, userPartition } from "@paysync/aws/store/keys";
import { nowSeconds, paymentsHarness, uid } from "../helpers/payments.js";
import { useRuntime } from "../helpers/runtime.js";
import { checkoutCompletedEvent, subscriptionEvent } from "../helpers/stripe-factories.js";
import { FEED_START, makeOp, syncClient } from "../helpers/sync.js";

const rt = useRuntime();
const sync = syncClient(rt);
const pay = paymentsHarness(rt);

let applier: OpApplier;
let cipher: PayloadCipher;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  const { wiring } = await import("@paysync/aws/wiring");
  applier = wiring.opApplier();
  cipher = wiring.cipher();
});

type User = Awaited<ReturnType<typeof sync.user>>;

/** The user's current entities as stored: what a bootstrapped device must end up holding. */
async function liveState(userKey: string): Promise<Map<string, { version: number; action: string }>> {
  const state = new Map<string, { version: number; action: string }>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await rt.dynamo.send(new QueryCommand({
      TableName: rt.resources.tables.Sync, ConsistentRead: true, ExclusiveStartKey: startKey,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": userPartition(userKey), ":prefix": ENTITY_PREFIX },
    }));
    for (const item of page.Items ?? []) state.set(`${item.entityType}/${item.entityId}`, { version: item.version, action: item.action });
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return state;
}

/** A write by one of the user's devices, applied as the sync worker applies it (current version as base). */
async function write(user: User, deviceId: string, entityId: string, action: "upsert" | "delete", versions: Map<string, number>) {
  const key = `premium_content/${entityId}`;
  const opId = `op-${entityId}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const message: SyncOpMessage = {
    v: 1, userKey: user.userKey, deviceId, devicePriority: 0, opId, entityType: "premium_content", entityId, action,
    baseVersion: versions.get(key) ?? 0, clientTime: new Date().toISOString(), priority: 7,
    payloadCipher: action === "delete" ? null : await cipher.encrypt({ opId }, { userKey: user.userKey, entityType: "premium_content" }),
    conflictResolution: "automatic", crossDeviceSync: true, enqueuedAtMs: Date.now(),
  };
  const result = await applier.apply(message);
  if (result.version !== undefined) versions.set(key, result.version);
  return { key, version: result.version ?? 0, outcome: result.outcome };
}

/** Holds what a device has applied, by the rules of docs/SYNC.md (a version only ever grows). */
function deviceModel() {
  const held = new Map<string, { version: number; deleted: boolean }>();
  return {
    held,
    apply(change: { entityType: string; entityId: string; version: number; action: string }) {
      const key = `${change.entityType}/${change.entityId}`;
      const mine = held.get(key);
      if (mine && mine.version >= change.version) return;
      held.set(key, { version: change.version, deleted: change.action === "delete" });
    },
    live(): Map<string, number> {
      return new Map([...held].filter(([, v]) => !v.deleted).map(([k, v]) => [k, v.version]));
    },
  };
}

const POOL = 8;
const entityName = (i: number) => `pc-${i}`;

describe("bootstrap of a new device", () => {
  let user: User;
  const versions = new Map<string, number>();

  beforeAll(async () => {
    // Two devices make 200 changes (creates, updates, deletes) before any new device exists.
    user = await sync.user("bootstrap", ["phone", "laptop"], "premium");
    const random = fc.sample(fc.tuple(fc.integer({ min: 0, max: POOL - 1 }), fc.boolean(), fc.integer({ min: 0, max: 9 })), { numRuns: 200, seed: 13 });
    for (const [i, fromPhone, roll] of random) {
      const exists = (versions.get(`premium_content/${entityName(i)}`) ?? 0) > 0;
      await write(user, fromPhone ? user.devices.phone! : user.devices.laptop!, entityName(i), exists && roll === 0 ? "delete" : "upsert", versions);
    }
  }, 120_000);

  it("gets exactly the live state, then every later change exactly once, whatever is written between its pages", async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 3, max: 8 }),
      fc.array(fc.oneof(
        fc.constant({ kind: "page" as const }),
        fc.record({ kind: fc.constant("write" as const), entity: fc.integer({ min: 0, max: POOL - 1 }), del: fc.boolean(), fromPhone: fc.boolean() }),
      ), { maxLength: 5 }),
      async (limit, steps) => {
        // Prepare: a fresh device of the same user (removed again at the end: a user keeps at most 20)
        const deviceId = `new-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
        expect((await rt.request("POST", "/v1/devices", { token: user.token, body: { deviceId, platform: "web" } })).status).toBe(201);
        const device = deviceModel();
        const snapshotKeys: string[] = [];
        const feedSeen: string[] = [];
        const written: string[] = [];
        let cursor: string | undefined;
        let phase: "snapshot" | "feed" = "snapshot";
        let hasMore = true;
        const pullPage = async () => {
          const response = await sync.pull(user.token, deviceId, { ...(cursor ? { cursor } : {}), limit });
          expect(response.status, response.text).toBe(200);
          for (const change of response.json.changes) {
            const key = `${change.entityType}/${change.entityId}`;
            if (change.snapshot) snapshotKeys.push(key);
            else feedSeen.push(`${key}@${change.version}`);
            device.apply(change);
          }
          ({ cursor, phase, hasMore } = response.json);
        };

        // Act: pages and writes interleaved as drawn, then the rest of the pages
        for (const step of steps) {
          if (step.kind === "page") {
            if (hasMore || phase === "snapshot") await pullPage();
            continue;
          }
          const exists = (versions.get(`premium_content/${entityName(step.entity)}`) ?? 0) > 0;
          const done = await write(user, step.fromPhone ? user.devices.phone! : user.devices.laptop!, entityName(step.entity), exists && step.del ? "delete" : "upsert", versions);
          // Once the bootstrap has begun (its snapshot point read), a write is the feed's to deliver.
          if (done.outcome === "applied" && cursor !== undefined) written.push(`${done.key}@${done.version}`);
        }
        while (phase === "snapshot" || hasMore) await pullPage();
        // Writes after the last page are urgent (priority 7): the pull interval lets the device fetch them.
        if (written.some((w) => !feedSeen.includes(w))) await pullPage();
        while (hasMore) await pullPage();
        await rt.request("DELETE", `/v1/devices/${deviceId}`, { token: user.token });

        // Assess
        const stored = await liveState(user.userKey);
        const expected = new Map([...stored].filter(([, v]) => v.action !== "delete").map(([k, v]) => [k, v.version]));
        expect(new Set(snapshotKeys).size, "each entity at most once in the snapshot").toBe(snapshotKeys.length);
        expect(new Set(feedSeen).size, "each change at most once in the feed").toBe(feedSeen.length);
        expect(device.live(), "the device holds exactly the live state").toEqual(expected);
        expect([...feedSeen].sort(), "every change written during the bootstrap exactly once").toEqual([...written].sort());
      },
    ), { numRuns: 200, seed: 4_217 });
  }, 240_000);
});

describe("bootstrap rules", () => {
  it("on free, carries server, crisis and the device's own entities, never another device's", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("boot-free", ["phone", "tablet"], "free");
    const mine = makeOp({ entityType: "check_in" });
    const theirs = makeOp({ entityType: "check_in" });
    const plan = makeOp({ entityType: "safety_plan", entityId: "current", payload: {
      warningSigns: ["cannot sleep"], copingStrategies: ["walk"], reasonsForLiving: ["my sister"],
      distractions: [], peopleToAskForHelp: [], professionalsToContact: [], makingEnvironmentSafe: [],
    } });
    await sync.push(token, devices.tablet!, [mine]);
    await sync.push(token, devices.phone!, [theirs, plan]);
    await sync.applied(userKey, [mine.opId, theirs.opId]);
    await rt.dynamo.send(new PutCommand({
      TableName: rt.resources.tables.Sync,
      Item: { ...entityKey(userKey, "sync_policy", "sync_policy"), entityType: "sync_policy", entityId: "sync_policy", version: 3, action: "upsert", payloadCipher: await cipher.encrypt({ tier: "free" }, { userKey, entityType: "sync_policy" }), originDeviceId: "server", priority: 7, commitSeq: 0 },
    }));

    // Act
    const changes = await sync.pullFrom(token, devices.tablet!, undefined);

    // Assess
    expect(changes.map((c) => `${c.entityType}/${c.entityId}`).sort()).toEqual([`check_in/${mine.entityId}`, "safety_plan/current", "sync_policy/sync_policy"]);
    expect(changes.every((c) => c.snapshot === true && c.action === "upsert")).toBe(true);
    expect(changes.find((c) => c.entityType === "sync_policy")).toMatchObject({ originDeviceId: null, version: 3, payload: { tier: "free" } });
  });

  it("leaves deleted entities out, and they stay deleted afterwards", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("boot-deleted", ["phone", "tablet"], "basic");
    const kept = makeOp();
    const doomed = makeOp();
    await sync.push(token, devices.phone!, [kept, doomed]);
    await sync.applied(userKey, [kept.opId, doomed.opId]);
    const removal = makeOp({ entityId: doomed.entityId, action: "delete", baseVersion: 1, payload: undefined });
    await sync.push(token, devices.phone!, [removal]);
    await sync.applied(userKey, [removal.opId]);

    // Act
    const changes = await sync.pullFrom(token, devices.tablet!, undefined);

    // Assess
    expect(changes.map((c) => c.entityId)).toEqual([kept.entityId]);
    expect(await sync.entity(userKey, "check_in", doomed.entityId)).toMatchObject({ action: "delete", version: 2 });
  });

  it("carries the server entities the payment applier stores with its changes", async () => {
    // Prepare: a premium subscription through the webhook, as Stripe would send it
    const customerId = uid("cus");
    const userId = uid("user");
    const created = nowSeconds() - 60;
    await pay.registerDevices(userId, ["phone"]);
    await pay.deliver(
      checkoutCompletedEvent({ customer: customerId, clientReferenceId: userId, created, id: uid("evt") }),
      subscriptionEvent({ type: "customer.subscription.created", status: "active", customer: customerId, created: created + 1, id: uid("evt"), priceId: "price_it_premium", priceLookupKey: "premium_monthly" }),
    );
    await pay.laneDrained();

    // Act
    const changes = await sync.pullFrom(await rt.token(userId), "phone", undefined);

    // Assess
    expect(changes.map((c) => c.entityType).sort()).toEqual(["feature_flags", "payment_state", "sync_policy"]);
    expect(changes.find((c) => c.entityType === "sync_policy")).toMatchObject({ snapshot: true, originDeviceId: null, priority: 7, payload: { tier: "premium" } });
    expect(changes.find((c) => c.entityType === "payment_state").payload).toEqual({ tier: "premium", status: "active", graceEndsAt: null, paymentCurrent: true });
  });
});

describe("registration fences the fan-out", () => {
  it("sends a commit whose device list predates a registration back to read the devices again", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("fence", ["phone", "tablet"], "basic");
    const { wiring } = await import("@paysync/aws/wiring");
    const feed = wiring.feed();
    const seenWithTheDevices = await feed.readSeq(userKey);
    expect((await rt.request("POST", "/v1/devices", { token, body: { deviceId: "late-tablet", platform: "ios" } })).status).toBe(201);

    // Act
    const attempt = feed.append(userKey, [{
      entityType: "check_in", entityId: "fenced", version: 1, action: "upsert", payloadCipher: null, priority: 4,
      originDeviceId: devices.phone!, targetDeviceIds: [devices.tablet!],
    }], [], new Date(), seenWithTheDevices);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: "FanoutMoved" });
    expect(await sync.feed(userKey, devices.tablet!)).toEqual([]);
  });
});

describe("resync", () => {
  it("answers 410 resync_required below the purge watermark, and a pull from scratch converges", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("resync", ["phone", "tablet"], "basic");
    const ops = [makeOp(), makeOp(), makeOp()];
    await sync.push(token, devices.phone!, ops);
    await sync.applied(userKey, ops.map((o) => o.opId));
    const feed = await sync.pullAll(token, devices.tablet!);
    await rt.dynamo.send(new PutCommand({ TableName: rt.resources.tables.Sync, Item: { ...purgeWatermarkKey(userKey, devices.tablet!), highestPurgedSeq: feed.at(-1).seq } }));

    // Act
    const stale = await sync.pull(token, devices.tablet!, { cursor: FEED_START });
    const rebuilt = await sync.pullFrom(token, devices.tablet!, undefined);

    // Assess
    expect(stale.status).toBe(410);
    expect(stale.json.error).toMatchObject({ code: "resync_required" });
    expect(rebuilt.map((c) => c.entityId).sort()).toEqual(ops.map((o) => o.entityId).sort());
  });

  it("answers 400 for a cursor this API did not issue", async () => {
    // Prepare
    const { token, devices } = await sync.user("bad-cursor", ["phone"]);

    // Act
    const response = await sync.pull(token, devices.phone!, { cursor: Buffer.from("v2.s.1.no spaces.x").toString("base64url") });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("validation_error");
  });
});
