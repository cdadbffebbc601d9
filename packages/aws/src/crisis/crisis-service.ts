/**
 * The crisis path (SPEC.md §2, §4; issue 5): crisis mode, safety plan, emergency contacts and
 * crisis-level assessments, written synchronously in ONE DynamoDB transaction together with a
 * priority-10 (assessments: 9) change in the feed of every other device of the user. It reads
 * no payment state, has no limits and no queue: whatever a user pays, it answers.
 *
 * - Fan-out: every device of the user except the one the write came from (the origin already
 *   has it: the SPEC's "the origin device does not get its own op back"), for pushed ops and
 *   for the HTTP routes alike.
 * - Never loses a write: every write supersedes the current version, which moves to history
 *   (`HIST#<type>#<id>#<version>#current`); a concurrent writer only makes it retry on fresh
 *   state, so two concurrent edits both survive, the later commit current.
 * - Exactly once per pushed op: the op record `OP#<opId>` (shared with the sync worker) is
 *   written in the same transaction, conditional on being new.
 *
 * @example
 * const service = new CrisisService({ feed, devices, entities, cipher });
 * const resources = await service.activate(userKey, { deviceId: "phone", level: "high", source: "button" });
 * await service.applyCrisisOp({ userKey, deviceId: "phone", opId, entityType: "safety_plan", entityId: "current",
 *   action: "upsert", baseVersion: 1, clientTime, payload: plan, priority: 10 });
 */
import type { CrisisActivateRequest, CrisisModeState, CrisisResourcesResponse, EmergencyContact, SafetyPlan } from "@paysync/core/api/crisis";
import { EmergencyContactsRequestSchema, SafetyPlanSchema } from "@paysync/core/api/crisis";
import { parseCrisisOp, type CrisisOpInput, type CrisisOpResult, type CrisisOps } from "@paysync/core/crisis/ops";
import { isCrisisStorageFault } from "@paysync/core/crisis/degraded";
import { KeyedCoalescer, KeyedGate } from "@paysync/core/crisis/fairness";
import { composeResources } from "@paysync/core/crisis/resources";
import { BUNDLED_DIRECTORY, currentDirectory, directoryLines, resolveRegion, type DirectoryLines } from "@paysync/core/crisis/directory";
import type { RegionCode } from "@paysync/core/api/crisis-directory";
import {
  activateCrisis, CRISIS_SINGLETON_ID, crisisModeOf, CrisisStateSchema, crisisStateIntent,
  INACTIVE_CRISIS_STATE, isRepeatActivation, resolveCrisis, type CrisisState,
} from "@paysync/core/crisis/state";
import { DependencyError, NotFoundError } from "@paysync/core/errors";
import type { ChangeFeedStore, CommitSeqs, CrisisDirectoryStore, CrisisRegionStore, DeviceRecord, DeviceStore, EntityStore, FeedChange, LaneSink, PayloadCipher, PokeSink, StoreWrite } from "@paysync/core/ports";
import { WriteConditionFailed } from "@paysync/core/ports";
import { devicePriority } from "@paysync/core/sync/conflicts";
import { ASSESSMENT_CRISIS_PRIORITY, CLASS_PRIORITY } from "@paysync/core/sync/entities";
import type { SyncOpMessage } from "@paysync/core/sync/op-message";
import { pokesFor } from "@paysync/core/sync/realtime";
import { randomUUID } from "node:crypto";
import { errorName, logger } from "../base/observability.js";
import { retrying } from "../base/retry.js";
import { cancellationCodes } from "../store/transactions.js";
import { CrisisEntities, type CrisisWrite, type StoredEntity } from "./crisis-entities.js";

export type { CrisisOpInput, CrisisOpResult };

export interface CrisisWriteResult {
  /** Absent when the write was deferred (degraded). */
  version?: number;
  updatedAt: string;
  degraded?: true;
}

/** Marks an answer served in degraded mode (SPEC.md §5). */
type MaybeDegraded<T> = T & { degraded?: true };

/** The message group of a user's deferred crisis writes: one group, so they apply in the order they were made. */
const deferredGroupOf = (userKey: string) => `${userKey}#crisis`;

export interface CrisisPorts {
  feed: ChangeFeedStore;
  devices: DeviceStore;
  entities: EntityStore;
  cipher: PayloadCipher;
  /** Realtime pokes after commit; absent: none. */
  pokes?: PokeSink;
  /**
   * Where a crisis write goes when storage fails (the realtime lane: SQS stays up when
   * DynamoDB is down); the sync worker applies it once storage is back. Absent: a storage
   * fault is thrown (the push path, which has its own answer to a failed op).
   */
  deferred?: LaneSink;
  /** The stored crisis directory (cached by the adapter); absent: the bundled copy only. */
  directory?: CrisisDirectoryStore;
  /** Users' saved regions; absent: every call without `?region=` gets US. */
  regions?: CrisisRegionStore;
}

/** The directory part of an answer; `read: false` when storage failed and the bundled copy stands in. */
interface DirectoryView {
  lines: DirectoryLines;
  read: boolean;
}

interface SupportData {
  safetyPlan: SafetyPlan | undefined;
  contacts: EmergencyContact[] | undefined;
  complete: boolean;
}

interface PlannedWrite {
  current: StoredEntity | undefined;
  write: CrisisWrite;
}

/** Version races are retried, never turned into a rejection; this only bounds a pathological storm. */
const MAX_ATTEMPTS = 25;

/** A key no user has (pseudonyms are `u_` + hex): the warm-up's reads find nothing and it writes nothing. */
const WARM_UP_USER_KEY = "warm-up";

class Duplicate {
  constructor(readonly version: number) {}
}

/** The caller's device, or 404: another user's device is indistinguishable from a missing one. */
function ownDevice(devices: DeviceRecord[], deviceId: string): DeviceRecord {
  const device = devices.find((d) => d.deviceId === deviceId);
  if (!device) throw new NotFoundError("Device not found");
  return device;
}

/** A resolution clears the crisis flag of every device that has it, and of the resolving one. */
function flagsCleared(devices: DeviceRecord[], deviceId: string): [string, boolean][] {
  return devices.filter((d) => d.crisisMode || d.deviceId === deviceId).map((d) => [d.deviceId, false]);
}

export class CrisisService implements CrisisOps {
  private readonly feed: ChangeFeedStore;
  private readonly devices: DeviceStore;
  private readonly entities: CrisisEntities;
  private readonly pokes: PokeSink | undefined;
  private readonly deferred: LaneSink | undefined;
  private readonly cipher: PayloadCipher;
  private readonly directory: CrisisDirectoryStore | undefined;
  private readonly regions: CrisisRegionStore | undefined;
  /**
   * One user's writes run one at a time in this instance (concurrent writers queue instead of
   * racing each other's transactions), and their reads at most a few at a time: one user's
   * burst waits behind itself and never takes all of the function's capacity.
   */
  private readonly writesPerUser = new KeyedGate(1);
  private readonly readsPerUser = new KeyedGate(4);
  /**
   * A burst of one user's activations shares its reads: most calls of a burst are repeats,
   * answered from one read of the devices and the state without waiting for the write gate.
   */
  private readonly activationViews = new KeyedCoalescer((userKey: string) => this.activationView(userKey));
  private readonly supportReads = new KeyedCoalescer((userKey: string) => this.supportData(userKey));

  constructor(ports: CrisisPorts) {
    this.feed = ports.feed;
    this.devices = ports.devices;
    this.pokes = ports.pokes;
    this.deferred = ports.deferred;
    this.cipher = ports.cipher;
    this.directory = ports.directory;
    this.regions = ports.regions;
    this.entities = new CrisisEntities(ports.entities, ports.cipher);
  }

  /**
   * What an instance does in its init phase, before its first request (provisioned concurrency
   * in AWS, the local runtime's warm start): the branch key it will encrypt with and its storage
   * connections are made now, not on a person's first crisis call. A failure here is only a
   * colder first call, so it is never thrown.
   */
  async prepare(): Promise<void> {
    await Promise.allSettled([
      this.cipher.encrypt({}, { userKey: WARM_UP_USER_KEY, entityType: "crisis_state", entityId: "current" }),
      this.directory?.current(),
      this.feed.readSeq(WARM_UP_USER_KEY),
    ]);
  }

  /**
   * Crisis mode on: state written, this device flagged, every other device told; answers with
   * the resources. A repeat at the same or a lower level while crisis mode is on is answered
   * without a write. When storage fails the activation is deferred and the answer is degraded.
   */
  async activate(userKey: string, request: CrisisActivateRequest, now = new Date()): Promise<MaybeDegraded<CrisisResourcesResponse>> {
    const support = this.supportReads.get(userKey);
    const directory = this.directoryView(userKey, undefined);
    const repeat = await this.repeatActivation(userKey, request);
    if (repeat) return this.answerWith(repeat, await support, await directory);
    return this.writesPerUser.run(userKey, async () => {
      try {
        const state = await this.retrying(async () => {
          const [devices, current, seq] = await Promise.all([this.devices.list(userKey), this.stateEntity(userKey), this.feed.readSeq(userKey)]);
          const device = ownDevice(devices, request.deviceId);
          const stored = await this.stateOf(userKey, current);
          if (isRepeatActivation(stored, request, device.crisisMode)) return stored;
          const next = activateCrisis(stored, request, now);
          await this.commit(userKey, devices, device, [this.stateWrite(current, next, device, "crisis.activate", now)], [[device.deviceId, true]], now, undefined, seq);
          return next;
        });
        return this.answerWith(state, await support, await directory);
      } catch (error) {
        if (!isCrisisStorageFault(error)) throw error;
        await this.defer(userKey, request.deviceId, "crisis_state", "upsert", { active: true, level: request.level, source: request.source }, now, error);
        // What the device asked for is what it will get once the write lands; the level
        // shown may be lower than the stored one, which the deferred write never lowers.
        return { ...this.answerWith(activateCrisis(INACTIVE_CRISIS_STATE, request, now), await support, await directory), degraded: true };
      }
    });
  }

  /** Crisis mode off, from any of the user's devices; every device's flag is cleared. */
  async resolve(userKey: string, deviceId: string, now = new Date()): Promise<MaybeDegraded<{ crisisMode: CrisisModeState }>> {
    return this.writesPerUser.run(userKey, async () => {
      try {
        const state = await this.retrying(async () => {
          const [devices, current, seq] = await Promise.all([this.devices.list(userKey), this.stateEntity(userKey), this.feed.readSeq(userKey)]);
          const device = ownDevice(devices, deviceId);
          const next = resolveCrisis(await this.stateOf(userKey, current), deviceId, now);
          await this.commit(userKey, devices, device, [this.stateWrite(current, next, device, "crisis.resolve", now)], flagsCleared(devices, deviceId), now, undefined, seq);
          return next;
        });
        return { crisisMode: crisisModeOf(state) };
      } catch (error) {
        if (!isCrisisStorageFault(error)) throw error;
        await this.defer(userKey, deviceId, "crisis_state", "upsert", { active: false }, now, error);
        return { crisisMode: crisisModeOf(resolveCrisis(INACTIVE_CRISIS_STATE, deviceId, now)), degraded: true };
      }
    });
  }

  async putSafetyPlan(userKey: string, deviceId: string, plan: SafetyPlan, now = new Date()): Promise<CrisisWriteResult> {
    return this.putSingleton(userKey, deviceId, "safety_plan", plan, now);
  }

  /** Empties the safety plan: its current version moves to history like any other write. */
  async clearSafetyPlan(userKey: string, deviceId: string, now = new Date()): Promise<CrisisWriteResult> {
    return this.putSingleton(userKey, deviceId, "safety_plan", undefined, now, "delete");
  }

  async putContacts(userKey: string, deviceId: string, contacts: EmergencyContact[], now = new Date()): Promise<CrisisWriteResult> {
    return this.putSingleton(userKey, deviceId, "emergency_contacts", { contacts }, now);
  }

  /**
   * The region's crisis lines and the fallback, safety plan, contacts and crisis mode; for
   * every authenticated user. A piece that could not be read is left out and the answer is
   * marked `degraded`: the bundled directory needs no storage, so lines are always there.
   */
  async resources(userKey: string, region?: RegionCode): Promise<MaybeDegraded<CrisisResourcesResponse>> {
    return this.readsPerUser.run(userKey, async () => {
      const [state, support, directory] = await Promise.all([
        this.stateEntity(userKey).then((entity) => this.stateOf(userKey, entity)).then(
          (value) => ({ value, read: true }),
          (error: unknown) => { logger.error("crisis state not read", { errorName: errorName(error) }); return { value: undefined, read: false }; },
        ),
        this.supportData(userKey),
        this.directoryView(userKey, region),
      ]);
      const answer = composeResources({ state: state.value, safetyPlan: support.safetyPlan, contacts: support.contacts }, directory.lines);
      return state.read && support.complete && directory.read ? answer : { ...answer, degraded: true };
    });
  }

  /**
   * Applies a crisis-class op pushed by a device, exactly once per `opId`. A stale
   * `baseVersion` is not a conflict here: the op becomes current, the version it replaced
   * goes to history. `crisis_state` is a per-user singleton kept by the server: its op
   * activates or resolves crisis mode (`{active: true, level, source?}` / `{active: false}` /
   * delete) whatever entity id it names. An assessment over the thresholds (scored here, not
   * trusted from the device) also activates crisis mode with source `assessment`.
   * Malformed payloads throw `ValidationError` (nothing stored); a device not of this user
   * throws `NotFoundError`.
   */
  async applyCrisisOp(input: CrisisOpInput, now = new Date()): Promise<CrisisOpResult> {
    const { payload, crisisLevel } = parseCrisisOp(input.entityType, input.action, input.payload);
    const ownId = input.entityType === "crisis_state" ? CRISIS_SINGLETON_ID : input.entityId;
    try {
      return await this.retrying(async () => {
        const [done, devices, current, stateEntity, seq] = await Promise.all([
          this.entities.readOp(input.userKey, input.opId),
          this.devices.list(input.userKey),
          this.entities.get(input.userKey, input.entityType, ownId),
          input.entityType === "assessment" && crisisLevel !== null ? this.stateEntity(input.userKey) : Promise.resolve(undefined),
          this.feed.readSeq(input.userKey),
        ]);
        if (done) throw new Duplicate(done.version);
        const device = ownDevice(devices, input.deviceId);
        const cause = input.opId;
        const writes: PlannedWrite[] = [];
        const flags: [string, boolean][] = [];
        if (input.entityType === "crisis_state") {
          const state = await this.stateOf(input.userKey, current);
          const intent = crisisStateIntent(input.action, payload);
          const next = intent.kind === "activate"
            ? activateCrisis(state, { level: intent.level, source: intent.source, deviceId: device.deviceId }, now)
            : resolveCrisis(state, device.deviceId, now);
          writes.push(this.stateWrite(current, next, device, cause, now, input.clientTime));
          if (intent.kind === "activate") flags.push([device.deviceId, true]);
          else flags.push(...flagsCleared(devices, device.deviceId));
        } else {
          const priority = input.entityType === "assessment" ? (crisisLevel !== null ? ASSESSMENT_CRISIS_PRIORITY : CLASS_PRIORITY.assessment) : 10;
          writes.push({ current, write: this.writeOf(input.entityType, ownId, input.action, payload, priority, device, cause, now, input.clientTime) });
          if (crisisLevel !== null && input.action === "upsert") {
            const next = activateCrisis(await this.stateOf(input.userKey, stateEntity), { level: crisisLevel, source: "assessment", deviceId: device.deviceId }, now);
            writes.push(this.stateWrite(stateEntity, next, device, cause, now, input.clientTime));
            flags.push([device.deviceId, true]);
          }
        }
        // An under-threshold assessment is not crisis data: stored, but it travels to other devices only through a lane.
        const targets = input.entityType === "assessment" && crisisLevel === null ? [] : devices;
        const [version = 0] = await this.commit(input.userKey, targets, device, writes, flags, now, input.opId, seq);
        return { status: "applied" as const, version };
      });
    } catch (error) {
      if (error instanceof Duplicate) return { status: "duplicate", version: error.version };
      throw error;
    }
  }

  private async putSingleton(
    userKey: string, deviceId: string, entityType: "safety_plan" | "emergency_contacts", payload: unknown, now: Date,
    action: "upsert" | "delete" = "upsert",
  ): Promise<CrisisWriteResult> {
    return this.writesPerUser.run(userKey, async () => {
      try {
        const version = await this.retrying(async () => {
          const [devices, current, seq] = await Promise.all([
            this.devices.list(userKey), this.entities.get(userKey, entityType, CRISIS_SINGLETON_ID), this.feed.readSeq(userKey),
          ]);
          const device = ownDevice(devices, deviceId);
          const write = this.writeOf(entityType, CRISIS_SINGLETON_ID, action, payload, 10, device, `crisis.${entityType}`, now);
          const [committed = 0] = await this.commit(userKey, devices, device, [{ current, write }], [], now, undefined, seq);
          return committed;
        });
        return { version, updatedAt: now.toISOString() };
      } catch (error) {
        if (!isCrisisStorageFault(error)) throw error;
        await this.defer(userKey, deviceId, entityType, action, payload, now, error);
        return { updatedAt: now.toISOString(), degraded: true };
      }
    });
  }

  /**
   * Keeps a crisis write that storage refused: encrypted, on the realtime lane under a
   * server-chosen op id, so the sync worker applies it exactly once (op record) when storage
   * is back. The device id is checked then. Never throws: a write that cannot even be kept is
   * logged, and the caller still gets its degraded answer (the device keeps its own copy).
   */
  private async defer(
    userKey: string, deviceId: string, entityType: "crisis_state" | "safety_plan" | "emergency_contacts",
    action: "upsert" | "delete", payload: unknown, now: Date, cause: unknown,
  ): Promise<void> {
    logger.warn("crisis write deferred", { entityType, errorName: errorName(cause) });
    if (!this.deferred) throw cause;
    try {
      const message: SyncOpMessage = {
        v: 1, userKey, deviceId, devicePriority: 0, opId: `crisis-deferred-${randomUUID()}`, entityType, entityId: CRISIS_SINGLETON_ID,
        action, baseVersion: 0, clientTime: now.toISOString(), priority: 10,
        payloadCipher: action === "delete" ? null : await this.cipher.encrypt(payload, { userKey, entityType }),
        conflictResolution: "automatic", crossDeviceSync: true, enqueuedAtMs: now.getTime(),
      };
      const { failed } = await this.deferred.publish([{ lane: "realtime", groupId: deferredGroupOf(userKey), message }]);
      if (failed.length > 0) logger.error("deferred crisis write not kept", { entityType });
    } catch (error) {
      logger.error("deferred crisis write not kept", { entityType, errorName: errorName(error) });
    }
  }

  private answerWith(state: CrisisState, support: SupportData, directory: DirectoryView): MaybeDegraded<CrisisResourcesResponse> {
    const answer = composeResources({ state, safetyPlan: support.safetyPlan, contacts: support.contacts }, directory.lines);
    return support.complete && directory.read ? answer : { ...answer, degraded: true };
  }

  /**
   * Saves the user's region. Storage failing: not saved, answered `degraded` (a crisis route
   * never fails; the device keeps sending `?region=`).
   */
  async saveRegion(userKey: string, region: RegionCode, now = new Date()): Promise<MaybeDegraded<{ region: RegionCode }>> {
    if (!this.regions) return { region, degraded: true };
    try {
      await this.regions.put(userKey, region, now);
      return { region };
    } catch (error) {
      logger.error("crisis region not saved", { errorName: errorName(error) });
      return { region, degraded: true };
    }
  }

  /**
   * The directory's lines for the requested region, else the saved one, else US; the bundled
   * copy when the directory cannot be read, US when the saved region cannot be (never throws).
   */
  private async directoryView(userKey: string, requested: RegionCode | undefined): Promise<DirectoryView> {
    const [saved, current] = await Promise.all([
      requested === undefined && this.regions ? this.regions.get(userKey).then(
        (value) => ({ value, read: true }),
        (error: unknown) => { logger.error("crisis region not read", { errorName: errorName(error) }); return { value: undefined, read: false }; },
      ) : { value: undefined, read: true },
      this.directory ? this.directory.current().then(
        (value) => ({ value: currentDirectory(value), read: true }),
        (error: unknown) => { logger.error("crisis directory not read", { errorName: errorName(error) }); return { value: BUNDLED_DIRECTORY, read: false }; },
      ) : { value: BUNDLED_DIRECTORY, read: true },
    ]);
    return { lines: directoryLines(current.value, resolveRegion(requested, saved.value)), read: saved.read && current.read };
  }

  /** One transaction: op record, entity writes with history, device flags, feed entries to `devices` but the origin. */
  private async commit(
    userKey: string, devices: DeviceRecord[], origin: DeviceRecord, writes: PlannedWrite[],
    flags: [string, boolean][], now: Date, opId?: string, knownSeq?: number,
  ): Promise<number[]> {
    const targets = devices.map((d) => d.deviceId).filter((id) => id !== origin.deviceId);
    const built = await Promise.all(writes.map(({ current, write }) => this.entities.writeItems(userKey, current, write, now)));
    const versions = built.map((b) => b.version);
    const items = ({ seqs, after }: CommitSeqs): StoreWrite[] => [
      ...(opId === undefined ? [] : [this.entities.opRecord(userKey, opId, versions[0] ?? 0, now)]),
      ...built.flatMap((b, i) => b.writes(seqs[i] ?? after)),
      ...flags.map(([deviceId, on]) => this.devices.crisisFlagWrite(userKey, deviceId, on)),
    ];
    const changes: FeedChange[] = targets.length === 0 ? [] : built.map((b) => ({ ...b.change, targetDeviceIds: targets }));
    try {
      await this.feed.append(userKey, changes, items, now, knownSeq);
      // Crisis changes poke every tier's devices; a poke never fails or delays the write.
      await this.pokes?.poke(userKey, pokesFor(changes, false));
    } catch (error) {
      if (opId !== undefined && error instanceof WriteConditionFailed && error.reasons[0] === "ConditionalCheckFailed") {
        throw new Duplicate((await this.entities.readOp(userKey, opId))?.version ?? 0);
      }
      throw error;
    }
    return versions;
  }

  private writeOf(
    entityType: string, entityId: string, action: "upsert" | "delete", payload: unknown, priority: number,
    device: DeviceRecord, cause: string, now: Date, clientTime = now.toISOString(),
  ): CrisisWrite {
    const state = { activeSession: device.activeSessionId !== null, crisisMode: device.crisisMode, primary: device.primary,
      lastSeenAtMs: device.lastSeenAt ? Date.parse(device.lastSeenAt) : 0 };
    return { entityType, entityId, action, payload, priority, clientTime, deviceId: device.deviceId,
      devicePriority: devicePriority(state, now.getTime()), cause };
  }

  private stateWrite(current: StoredEntity | undefined, next: CrisisState, device: DeviceRecord, cause: string, now: Date, clientTime?: string): PlannedWrite {
    return { current, write: this.writeOf("crisis_state", CRISIS_SINGLETON_ID, "upsert", next, 10, device, cause, now, clientTime) };
  }

  private async activationView(userKey: string): Promise<{ devices: DeviceRecord[]; state: CrisisState }> {
    const [devices, current] = await Promise.all([this.devices.list(userKey), this.stateEntity(userKey)]);
    return { devices, state: await this.stateOf(userKey, current) };
  }

  /**
   * The stored state when this activation would change nothing (crisis mode on at the same or a
   * higher level, this device flagged), from a read that began after the call arrived. A read
   * that fails says nothing: the write path decides, and defers when storage is down.
   */
  private async repeatActivation(userKey: string, request: CrisisActivateRequest): Promise<CrisisState | undefined> {
    let view: { devices: DeviceRecord[]; state: CrisisState };
    try {
      view = await this.activationViews.get(userKey);
    } catch (error) {
      if (isCrisisStorageFault(error)) return undefined;
      throw error;
    }
    const device = ownDevice(view.devices, request.deviceId);
    return isRepeatActivation(view.state, request, device.crisisMode) ? view.state : undefined;
  }

  private stateEntity(userKey: string): Promise<StoredEntity | undefined> {
    return this.entities.get(userKey, "crisis_state", CRISIS_SINGLETON_ID);
  }

  private async stateOf(userKey: string, entity: StoredEntity | undefined): Promise<CrisisState> {
    return (await this.entities.readValid(userKey, "crisis_state", entity, (v) => CrisisStateSchema.parse(v))) ?? INACTIVE_CRISIS_STATE;
  }

  /** The safety plan and contacts, each `undefined` when absent or unreadable; never throws (`complete` says whether both were read). */
  private async supportData(userKey: string): Promise<SupportData> {
    const readPiece = async <T>(entityType: string, parse: (value: unknown) => T): Promise<{ value: T | undefined; read: boolean }> => {
      try {
        return { value: await this.entities.readValid(userKey, entityType, await this.entities.latest(userKey, entityType), parse), read: true };
      } catch (error) {
        logger.error("crisis data not read", { entityType, errorName: errorName(error) });
        return { value: undefined, read: false };
      }
    };
    const [plan, contacts] = await Promise.all([
      readPiece("safety_plan", (v) => SafetyPlanSchema.parse(v)),
      readPiece("emergency_contacts", (v) => EmergencyContactsRequestSchema.parse(v).contacts),
    ]);
    return { safetyPlan: plan.value, contacts: contacts.value, complete: plan.read && contacts.read };
  }

  /** Runs one read-decide-commit attempt until it commits; races with other writers only cost a retry. */
  private retrying<T>(attempt: () => Promise<T>): Promise<T> {
    return retrying({
      attempts: MAX_ATTEMPTS, pauseMs: 5,
      retryOn: (error) => error instanceof WriteConditionFailed || cancellationCodes(error) !== undefined,
      exhausted: () => new DependencyError("Crisis data kept changing under concurrent writers; retry"),
    }, attempt);
  }
}
