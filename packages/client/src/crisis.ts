/**
 * The crisis kit, always at hand: the crisis resources (hotline and lines for the region), the
 * safety plan, the emergency contacts and crisis mode, cached durably so the kit opens with no
 * network and no payment. `activate()` records the activation durably first, then asks the
 * server; if the answer does not come within the deadline (or there is no network) it answers
 * from the cache at once and the activation is sent — before anything else — when the server
 * can be reached again. Nothing here is gated on entitlements, and the crisis routes never
 * answer 426, so this keeps working when sync has stopped for an upgrade.
 *
 * @example
 * const { kit, delivered } = await crisis.activate({ level: "high", source: "button" });
 * showHotline(kit.resources.hotline);
 */
import { CRISIS_HOTLINE, type CrisisLevel, type CrisisModeState, type CrisisSource, type EmergencyContact, type SafetyPlan } from "@paysync/core/api";
import { Backoff, type BackoffPolicy } from "./backoff.js";
import { PaysyncHttpError } from "./errors.js";
import { Serial } from "./events.js";
import type { LocalState } from "./local-state.js";
import type { Clock } from "./platform.js";
import { CrisisResourcesSchema, type CrisisResources } from "./protocol.js";
import { Runner } from "./runner.js";
import type { ClientStore } from "./store/store.js";
import type { Transport } from "./transport.js";
import type { JsonValue } from "./types.js";

export interface CrisisKit {
  /** The server's crisis resources for the region, or the built-in fallback before the first answer. */
  resources: CrisisResources;
  /** `cache`: the last answer of the server (stored durably); `builtin`: it has never answered. */
  source: "cache" | "builtin";
  /** When the resources were fetched (client clock); null for the built-in ones. */
  fetchedAt: number | null;
  /** The newest safety plan the device knows (a local edit not yet synced included). */
  safetyPlan: SafetyPlan | null;
  emergencyContacts: EmergencyContact[];
  crisisMode: CrisisModeState;
  /** The `crisis_directory` entity, when the feed has delivered one. */
  directory: JsonValue | null;
  /** Activations or resolutions recorded on this device and not yet delivered. */
  undelivered: number;
}

export interface ActivationResult {
  kit: CrisisKit;
  /** True when the server confirmed within the deadline; otherwise it is queued and retried. */
  delivered: boolean;
}

interface CachedResources {
  resources: CrisisResources;
  etag: string | null;
  fetchedAt: number;
  region: string | null;
}

interface CrisisAction {
  seq: number;
  kind: "activate" | "resolve";
  level?: CrisisLevel;
  source?: CrisisSource;
  at: number;
}

const RESOURCES_KEY = "crisis/resources";
const MODE_KEY = "crisis/mode";
const ACTION_PREFIX = "crisis/action/";
const actionKey = (seq: number): string => `${ACTION_PREFIX}${String(seq).padStart(16, "0")}`;

/** What the kit shows before the server has ever answered (US 988, unless the app gives its own). */
export const BUILTIN_CRISIS_RESOURCES: CrisisResources = {
  directoryVersion: "builtin",
  hotline: CRISIS_HOTLINE,
  lines: [],
  safetyPlan: null,
  emergencyContacts: [],
  crisisMode: { active: false, level: null, source: null, activatedAt: null },
};

export interface CrisisDeps {
  store: ClientStore;
  state: LocalState;
  transport: Transport;
  clock: Clock;
  random: () => number;
  deviceId: string;
  region: string | null;
  fallback: CrisisResources;
  /** How long `activate()` waits for the server before answering from the cache. */
  deadlineMs: number;
  timeoutMs: number;
  /** Retries of undelivered activations (short). */
  backoff: BackoffPolicy;
  /** Retries of the resources refresh (long: the kit is cached). */
  refreshBackoff: BackoffPolicy;
  /** Registers the device if it is not yet (`force` after a 404); its failure never blocks an activation. */
  ensureDevice: (force: boolean) => Promise<void>;
  onKit: (kit: CrisisKit) => void;
  onError: (error: unknown) => void;
}

export class CrisisManager {
  private cached: CachedResources | null = null;
  private mode: CrisisModeState | null = null;
  private actions: CrisisAction[] = [];
  private readonly serial = new Serial();
  private readonly runner: Runner;
  private readonly backoff: Backoff;
  private readonly refreshBackoff: Backoff;
  private holdUntil = 0;
  private stopped = true;

  constructor(private readonly deps: CrisisDeps) {
    this.backoff = new Backoff(deps.backoff, deps.random);
    this.refreshBackoff = new Backoff(deps.refreshBackoff, deps.random);
    this.runner = new Runner(deps.clock, () => this.step(), deps.onError);
  }

  async load(): Promise<void> {
    const [cached, mode, actions] = await Promise.all([
      this.deps.store.get<CachedResources>(RESOURCES_KEY), this.deps.store.get<CrisisModeState>(MODE_KEY),
      this.deps.store.list<CrisisAction>(ACTION_PREFIX),
    ]);
    this.cached = cached ?? null;
    this.mode = mode ?? null;
    this.actions = actions.map((e) => e.value);
  }

  start(): void {
    this.stopped = false;
    this.runner.restart();
    this.runner.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.runner.stop();
  }

  /** The kit from what this device holds; never empty, never waits. */
  kit(): CrisisKit {
    const cached = this.cached;
    const resources = cached?.resources ?? this.deps.fallback;
    const plan = this.singleton("safety_plan");
    const contacts = this.singleton("emergency_contacts");
    const directory = this.singleton("crisis_directory");
    const contactList = (contacts?.payload as { contacts?: EmergencyContact[] } | null)?.contacts;
    return {
      resources,
      source: cached ? "cache" : "builtin",
      fetchedAt: cached?.fetchedAt ?? null,
      safetyPlan: (plan?.payload as SafetyPlan | undefined) ?? resources.safetyPlan ?? null,
      emergencyContacts: contactList ?? resources.emergencyContacts ?? [],
      crisisMode: this.crisisMode(resources),
      directory: directory?.payload ?? null,
      undelivered: this.actions.length,
    };
  }

  /** A local activation not yet delivered wins; then the synced `crisis_state`; then the last answer. */
  private crisisMode(resources: CrisisResources): CrisisModeState {
    if (this.actions.length === 0) {
      const synced = this.singleton("crisis_state")?.payload as { active?: boolean; level?: CrisisLevel; source?: CrisisSource; activatedAt?: string } | undefined;
      if (synced && typeof synced.active === "boolean") {
        return { active: synced.active, level: synced.level ?? null, source: synced.source ?? null, activatedAt: synced.activatedAt ?? null };
      }
    }
    return this.mode ?? resources.crisisMode ?? { active: false, level: null, source: null, activatedAt: null };
  }

  /** Crisis entities are singletons with id `current`; any other id is taken if that is all there is. */
  private singleton(entityType: string) {
    return this.deps.state.get(entityType, "current") ?? this.deps.state.list(entityType)[0];
  }

  /** Records the activation, then answers within the deadline: from the server, else from the cache. */
  async activate(input: { level: CrisisLevel; source: CrisisSource }): Promise<ActivationResult> {
    const now = this.deps.clock.now();
    await this.record({ kind: "activate", level: input.level, source: input.source, at: now }, {
      active: true, level: input.level, source: input.source, activatedAt: new Date(now).toISOString(),
    });
    return this.deliverWithin();
  }

  /** Leaves crisis mode; queued like an activation when the server cannot be reached. */
  async resolve(): Promise<ActivationResult> {
    await this.record({ kind: "resolve", at: this.deps.clock.now() }, { active: false, level: null, source: null, activatedAt: null });
    return this.deliverWithin();
  }

  /** Refetches the resources (ETag / 304). */
  async refreshResources(): Promise<CrisisKit> {
    const cached = this.cached;
    const sameRegion = cached && cached.region === this.deps.region;
    const answer = await this.deps.transport.request({
      method: "GET", path: "/v1/crisis/resources", query: { region: this.deps.region ?? undefined }, timeoutMs: this.deps.timeoutMs,
      ...(sameRegion && cached.etag ? { headers: { "if-none-match": cached.etag } } : {}),
    });
    if (answer.status === 304 && cached) {
      this.cached = { ...cached, fetchedAt: this.deps.clock.now() };
    } else {
      await this.store(CrisisResourcesSchema.parse(answer.body) as CrisisResources, answer.headers.get("etag"));
    }
    this.deps.onKit(this.kit());
    return this.kit();
  }

  /** Sends undelivered activations, oldest first; stops at the first failure. */
  flush(): Promise<void> {
    return this.serial.run(async () => {
      while (this.actions.length > 0) {
        const action = this.actions[0]!;
        const path = action.kind === "activate" ? "/v1/crisis/activate" : "/v1/crisis/resolve";
        const body = action.kind === "activate"
          ? { deviceId: this.deps.deviceId, level: action.level, source: action.source }
          : { deviceId: this.deps.deviceId };
        await this.deps.ensureDevice(false).catch(() => undefined);
        const send = () => this.deps.transport.request({ method: "POST", path, body, timeoutMs: this.deps.timeoutMs });
        const answer = await send().catch(async (error: unknown) => {
          // A device the server does not know (never registered, or removed): register, then once more.
          if (!(error instanceof PaysyncHttpError && error.status === 404)) throw error;
          await this.deps.ensureDevice(true).catch(() => undefined);
          return send();
        });
        const writes = [{ key: actionKey(action.seq), delete: true as const }];
        await this.deps.store.write(writes);
        this.actions = this.actions.filter((a) => a.seq !== action.seq);
        const resources = CrisisResourcesSchema.safeParse(answer.body);
        if (action.kind === "activate" && resources.success) await this.store(resources.data as CrisisResources, null);
        this.deps.onKit(this.kit());
      }
    });
  }

  /** Re-read the resources soon (a crisis entity or the directory changed on the feed). */
  invalidate(): void {
    this.holdUntil = 0;
    this.runner.kick();
  }

  get hasUndelivered(): boolean {
    return this.actions.length > 0;
  }

  private async record(action: Omit<CrisisAction, "seq">, mode: CrisisModeState): Promise<void> {
    const full: CrisisAction = { ...action, seq: (this.actions.at(-1)?.seq ?? 0) + 1 };
    await this.deps.store.write([{ key: actionKey(full.seq), value: full }, { key: MODE_KEY, value: mode }]);
    this.actions.push(full);
    this.mode = mode;
    this.deps.onKit(this.kit());
  }

  private async deliverWithin(): Promise<ActivationResult> {
    const delivery = this.flush().then(() => true, (error: unknown) => {
      this.deps.onError(error);
      this.holdUntil = this.deps.clock.now() + this.backoff.next();
      this.runner.schedule(this.holdUntil - this.deps.clock.now());
      return false;
    });
    let timer: unknown = null;
    const deadline = new Promise<false>((resolve) => {
      timer = this.deps.clock.setTimeout(() => resolve(false), this.deps.deadlineMs);
    });
    const delivered = await Promise.race([delivery, deadline]);
    this.deps.clock.clearTimeout(timer);
    if (delivered) this.backoff.reset();
    return { kit: this.kit(), delivered: delivered && !this.hasUndelivered };
  }

  private async store(resources: CrisisResources, etag: string | null): Promise<void> {
    this.cached = { resources, etag, fetchedAt: this.deps.clock.now(), region: this.deps.region };
    const writes: Array<{ key: string; value: unknown }> = [{ key: RESOURCES_KEY, value: this.cached }];
    // The server's crisis mode wins once every local action is delivered.
    if (resources.crisisMode && this.actions.length === 0) {
      this.mode = resources.crisisMode;
      writes.push({ key: MODE_KEY, value: resources.crisisMode });
    }
    await this.deps.store.write(writes);
  }

  private async step(): Promise<number | null> {
    if (this.stopped) return null;
    const now = this.deps.clock.now();
    if (now < this.holdUntil) return this.holdUntil - now;
    try {
      await this.flush();
      this.backoff.reset();
    } catch (error) {
      this.deps.onError(error);
      const wait = this.backoff.next();
      this.holdUntil = now + wait;
      return wait;
    }
    try {
      await this.refreshResources();
      this.refreshBackoff.reset();
      return RESOURCES_REFRESH_MS;
    } catch (error) {
      this.deps.onError(error);
      const wait = this.refreshBackoff.next();
      this.holdUntil = now + wait;
      return wait;
    }
  }
}

/** The kit's resources are re-read daily, and whenever the feed says a crisis entity changed. */
export const RESOURCES_REFRESH_MS = 24 * 60 * 60_000;
