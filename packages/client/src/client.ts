/**
 * `createPaysyncClient`: what an app links to. It keeps the device's writes in a durable queue
 * and sends them (crisis first, at once), pulls the device's feed (bootstrap, resync, pokes,
 * polling), keeps the crisis kit and the signed entitlements for offline use, and reports
 * status per priority. Transport, storage, timers and randomness are injected; the defaults
 * are the platform's (`fetch`, `WebSocket`, `CompressionStream`, `crypto`).
 *
 * @example
 * const client = createPaysyncClient({
 *   baseUrl: "https://api.example.com", getToken: () => auth.token(), deviceId, platform: "ios",
 *   store: await openIndexedDbStore({ name: `paysync-${deviceId}` }),
 * });
 * await client.start();
 * await client.write("mood_entry", "m-2024-06-01", { mood: 4 });
 * client.on("change", ({ entityType, entity }) => render(entityType, entity));
 * const { kit } = await client.activateCrisis({ level: "high", source: "button" });
 */
import type { ClientEvents, PaysyncClient, PaysyncClientOptions } from "./api.js";
import { CRISIS_BACKOFF, DEFAULT_BACKOFF } from "./backoff.js";
import { DEFAULT_BATCHING } from "./batching.js";
import { ConflictsManager } from "./conflicts.js";
import { BUILTIN_CRISIS_RESOURCES, CrisisManager } from "./crisis.js";
import { EntitlementsManager } from "./entitlements.js";
import { errorInfo, type UpgradeRequiredError } from "./errors.js";
import { Emitter, Serial } from "./events.js";
import { LocalState, assertId } from "./local-state.js";
import { resolvePlatform } from "./platform.js";
import type { PulledChange } from "./protocol.js";
import { Realtime, defaultRealtimeUrl } from "./realtime.js";
import { Receiver } from "./receiver.js";
import { Sender } from "./sender.js";
import { StatusTracker } from "./status.js";
import type { ClientStore } from "./store/store.js";
import { Transport } from "./transport.js";

export type { ClientEvents, PaysyncClient, PaysyncClientOptions };

const CRISIS_TYPES: ReadonlySet<string> = new Set(["crisis_state", "safety_plan", "emergency_contacts", "crisis_directory"]);
const PAYMENT_TYPES: ReadonlySet<string> = new Set(["payment_state", "feature_flags", "sync_policy"]);
const DEVICE_KEY = "meta/device";
const CONFLICT_POLL_MS = 60_000;

export function createPaysyncClient(options: PaysyncClientOptions): PaysyncClient {
  assertId("deviceId", options.deviceId);
  const platform = resolvePlatform(options);
  const { clock, random } = platform;
  const store: ClientStore = options.store;
  const timeouts = { requestMs: 30_000, crisisDeadlineMs: 1_500, connectMs: 10_000, ...options.timeouts };
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const crisisBackoff = { ...CRISIS_BACKOFF, ...options.crisisBackoff };
  const batching = { ...DEFAULT_BATCHING, ...options.batching };
  const events = new Emitter<ClientEvents>((error) => console.error("paysync client: a listener threw", error));
  const status = new StatusTracker((s) => events.emit("status", s));

  let halted = false;
  let running = false;
  let online = false;
  let lastConflictFetch = Number.NEGATIVE_INFINITY;

  const reportError = (error: unknown): void => events.emit("error", errorInfo(error, clock.now()));

  const transport = new Transport({
    baseUrl: options.baseUrl, getToken: options.getToken, fetch: platform.fetch, clock, compress: platform.compress,
    defaultTimeoutMs: timeouts.requestMs, compressAboveBytes: options.compressAboveBytes ?? 1024,
    onReachable: (reachable) => {
      const cameBack = reachable && !online;
      online = reachable;
      status.update({ online: reachable });
      // Connectivity is back: undelivered crisis activations first, then the queue.
      if (cameBack && running && !halted) {
        crisis.invalidate();
        sender.retryNow();
      }
    },
  });

  const state = new LocalState(store, clock, platform.randomId, (event) => {
    status.setQueue(state.pending(), state.failed().length);
    events.emit("change", event);
  });

  const registration = new Serial();
  let registered = false;
  const ensureRegistered = (force = false): Promise<void> => registration.run(async () => {
    const wanted = { deviceId: options.deviceId, platform: options.platform, appVersion: options.appVersion ?? null, primary: options.primary ?? null };
    if (!force && registered) return;
    const stored = await store.get<typeof wanted>(DEVICE_KEY);
    if (!force && stored && JSON.stringify(stored) === JSON.stringify(wanted)) {
      registered = true;
      return;
    }
    await transport.request({
      method: "POST", path: "/v1/devices", timeoutMs: timeouts.requestMs,
      body: {
        deviceId: options.deviceId, platform: options.platform,
        ...(options.appVersion !== undefined ? { appVersion: options.appVersion } : {}),
        ...(options.primary !== undefined ? { primary: options.primary } : {}),
      },
    });
    await store.write([{ key: DEVICE_KEY, value: wanted }]);
    registered = true;
  });

  const onUpgradeRequired = (error: UpgradeRequiredError): void => {
    if (halted) return;
    halted = true;
    status.update({ upgradeRequired: error.supported ?? { min: Number.NaN, max: Number.NaN }, uploading: false, downloading: false });
    events.emit("upgradeRequired", error.supported);
    // Crisis keeps running: its routes answer every protocol version.
    sender.onlyCrisisRoutes();
    void receiver.stop();
    realtime?.stop();
    void entitlements.stop();
  };

  const before = async (): Promise<void> => {
    // Undelivered crisis activations go before any other request (flush registers if it must).
    if (crisis.hasUndelivered) await crisis.flush().catch(reportError);
    await ensureRegistered();
  };

  const crisis = new CrisisManager({
    store, state, transport, clock, random, deviceId: options.deviceId, region: options.region ?? null,
    fallback: options.crisisResources ?? BUILTIN_CRISIS_RESOURCES, deadlineMs: timeouts.crisisDeadlineMs,
    timeoutMs: timeouts.requestMs, backoff: crisisBackoff, refreshBackoff: { baseMs: 1_000, capMs: 5 * 60_000 },
    ensureDevice: (force) => ensureRegistered(force),
    onKit: (kit) => events.emit("crisisKit", kit), onError: reportError,
  });

  const entitlements = new EntitlementsManager({
    store, transport, clock, random, subtle: platform.subtle, backoff, timeoutMs: timeouts.requestMs,
    onChange: (e) => events.emit("entitlements", e), onUpgradeRequired, onError: reportError,
  });

  const conflicts = new ConflictsManager(transport, state, options.deviceId, timeouts.requestMs, (list) => events.emit("conflicts", list));
  const refreshConflicts = (): void => {
    lastConflictFetch = clock.now();
    void conflicts.refresh().catch(reportError);
  };

  const sender = new Sender({
    state, transport, clock, random, deviceId: options.deviceId, status, batching, backoff, crisisBackoff,
    timeoutMs: timeouts.requestMs, before, reregister: () => ensureRegistered(true), onUpgradeRequired,
    onFailed: (ops) => events.emit("failed", ops), onConflict: refreshConflicts, onError: reportError,
  });

  const realtimeUrl = options.realtimeUrl === false ? null : (options.realtimeUrl ?? defaultRealtimeUrl(options.baseUrl));
  const realtime = platform.webSocket && realtimeUrl
    ? new Realtime({
      factory: platform.webSocket, url: realtimeUrl, deviceId: options.deviceId, getToken: (force) => transport.token(force), clock, random,
      backoff, connectTimeoutMs: timeouts.connectMs, stableMs: 30_000,
      onPoke: (priority) => receiver.poke(priority),
      onConnected: (connected) => {
        status.update({ realtime: connected });
        // Up: pull what pokes may have missed. Down: fall back to polling at minIntervalMs.
        receiver.kick();
      },
      onError: reportError,
    })
    : null;

  const receiver = new Receiver({
    store, state, transport, clock, random, deviceId: options.deviceId, status, batching, backoff, timeoutMs: timeouts.requestMs,
    connectedPollMs: options.connectedPollMs ?? 60_000,
    realtimeCoversAll: () => (realtime?.isConnected ?? false) && entitlements.hasFeature("real_time_sync"),
    before, reregister: () => ensureRegistered(true), onUpgradeRequired,
    onChanges: (changes: readonly PulledChange[]) => {
      if (changes.some((c) => PAYMENT_TYPES.has(c.entityType))) entitlements.invalidate();
      if (changes.some((c) => CRISIS_TYPES.has(c.entityType))) {
        crisis.invalidate();
        events.emit("crisisKit", crisis.kit());
      }
    },
    onPulled: () => {
      const manual = entitlements.current().policy.conflictResolution === "manual";
      if (manual && clock.now() - lastConflictFetch >= CONFLICT_POLL_MS) refreshConflicts();
    },
    onError: reportError,
  });

  let loading: Promise<void> | null = null;
  const load = (): Promise<void> => (loading ??= (async () => {
    await state.load();
    await Promise.all([receiver.load(), crisis.load(), entitlements.load()]);
    status.setQueue(state.pending(), state.failed().length);
  })());

  return {
    async start() {
      await load();
      if (running) return;
      running = true;
      halted = false;
      status.update({ running: true, upgradeRequired: null });
      crisis.start();
      entitlements.start();
      sender.start();
      receiver.start();
      realtime?.start();
    },
    async stop() {
      running = false;
      realtime?.stop();
      const stopping = Promise.all([sender.stop(), receiver.stop(), crisis.stop(), entitlements.stop()]);
      // Requests under way are abandoned; an op whose push is cut off stays queued (same opId).
      transport.close();
      await stopping.finally(() => transport.reopen());
      status.update({ running: false, uploading: false, downloading: false, realtime: false });
    },
    async write(entityType, entityId, payload) {
      assertId("entityId", entityId);
      await load();
      const op = await state.enqueue({ entityType, entityId, action: "upsert", payload });
      if (running) sender.kick();
      return op;
    },
    async delete(entityType, entityId) {
      assertId("entityId", entityId);
      await load();
      const op = await state.enqueue({ entityType, entityId, action: "delete" });
      if (running && !halted) sender.kick();
      return op;
    },
    get: (entityType, entityId) => state.get(entityType, entityId),
    list: (entityType) => state.list(entityType),
    on: (event, listener) => events.on(event, listener),
    status: () => ({ ...status.get(), nextRetryAt: sender.nextRetryAt() }),
    async syncNow() {
      if (!running || halted) return;
      sender.retryNow();
      receiver.pullNow();
      await sender.whenIdle();
      await receiver.whenIdle();
      await sender.whenIdle();
    },
    pending: () => state.pending(),
    failed: () => state.failed(),
    async discardFailed(opId) {
      const removed = await state.discardFailed(opId);
      status.setQueue(state.pending(), state.failed().length);
      return removed;
    },
    async activateCrisis(input) {
      await load();
      return crisis.activate(input);
    },
    async resolveCrisis() {
      await load();
      return crisis.resolve();
    },
    crisisKit: () => crisis.kit(),
    entitlements: () => entitlements.current(),
    hasFeature: (feature) => entitlements.hasFeature(feature),
    refreshEntitlements: () => entitlements.refresh(),
    conflicts: () => conflicts.current(),
    refreshConflicts: () => {
      lastConflictFetch = clock.now();
      return conflicts.refresh();
    },
    resolveConflict: (id, resolution, payload) => conflicts.resolve(id, resolution, payload),
    async resync() {
      await load();
      await receiver.resync();
      receiver.pullNow();
    },
  };
}

