/**
 * Every key of paysync's tables (`resources.ts` TABLES: Sync, Payments, Audit, Connections), and
 * nothing else spells them: a key that changes (a pseudonymised id, a new scope) changes here
 * and nowhere else. A test fails the build when another file builds a key string itself.
 *
 * All three tables are single-table designs on `pk`/`sk` (plus `gsi1pk`/`gsi1sk` on Sync and
 * Payments). Users appear only as their pseudonymous key (`u_…`), Stripe customers as theirs
 * (`c_…`); no raw user id, email or Stripe id is ever part of a key. Ids a device chooses
 * (device and entity ids) appear only as their slots (`d_…`, `e_…`, see {@link idSlot}): a device
 * named `alice-iphone` puts nothing readable into a key; the plaintext id lives in the item.
 *
 * @example
 * await client.send(new GetCommand({ TableName, Key: entityKey(userKey, "mood_entry", entityId) }));
 */

import { createHmac } from "node:crypto";

export interface TableKey {
  pk: string;
  sk: string;
}

export interface IndexKey {
  gsi1pk: string;
  gsi1sk: string;
}

/** Zero-padded so that sort keys order like the numbers they hold. */
const padded = (value: number, digits: number): string => String(value).padStart(digits, "0");
const FEED_SEQ_DIGITS = 16;
const VERSION_DIGITS = 10;
const AUDIT_SEQ_DIGITS = 12;
const STRIPE_SECONDS_DIGITS = 12;

// ── Device-chosen ids ─────────────────────────────────────────────────────────────────────

/**
 * A device-chosen id as keys hold it: HMAC-SHA256 under the user's key, with the kind as a
 * domain label, hex, 128 bits. Keyed by the user so that two users' equal ids get different
 * slots; pure (no secret) so that every function that writes a key can compute it. What it
 * hides: the id from anyone who reads keys (CloudWatch, exports, throttling reports) without
 * guessing it first — see docs/SECURITY.md for what it does not hide.
 */
export function idSlot(userKey: string, kind: IdKind, id: string): string {
  return `${kind}_${createHmac("sha256", userKey).update(`paysync/${kind}/${id}`, "utf8").digest("hex").slice(0, 32)}`;
}
/** `d`: a device id; `e`: an entity id. */
export type IdKind = "d" | "e";
const deviceSlot = (userKey: string, deviceId: string): string => idSlot(userKey, "d", deviceId);
const entitySlot = (userKey: string, entityId: string): string => idSlot(userKey, "e", entityId);

// ── Sync table: one partition per user, one per device feed ──────────────────────────────

const USER = "USER#";
export const userPartition = (userKey: string): string => `${USER}${userKey}`;
/** The user key of a `USER#…` partition (Sync and Payments). */
export const userKeyOfPartition = (pk: string): string => (pk.startsWith(USER) ? pk.slice(USER.length) : pk);
const inUser = (userKey: string, sk: string): TableKey => ({ pk: userPartition(userKey), sk });

export const DEVICE_PREFIX = "DEVICE#";
export const deviceKey = (userKey: string, deviceId: string): TableKey => deviceKeyBySlot(userKey, deviceSlot(userKey, deviceId));
/** A device's item by its slot, for jobs that know the device only from a key ({@link parseFeedPartition}). */
export const deviceKeyBySlot = (userKey: string, slot: string): TableKey => inUser(userKey, `${DEVICE_PREFIX}${slot}`);
/** How many devices the user has registered (bounds the fan-out of one transaction). */
export const deviceCountKey = (userKey: string): TableKey => inUser(userKey, "DEVICECOUNT");

/** The user's feed counter: the last sequence number given out. */
export const feedCounterKey = (userKey: string): TableKey => inUser(userKey, "FEEDSEQ");
/** Per device: the seq of the newest priority >= 8 change in its feed. */
export const exemptMarkKey = (userKey: string, deviceId: string): TableKey => inUser(userKey, `FEEDMARK#${deviceSlot(userKey, deviceId)}`);
/** Per device: the highest seq the retention purge removed from its feed. */
export const purgeWatermarkKey = (userKey: string, deviceId: string): TableKey => purgeWatermarkKeyBySlot(userKey, deviceSlot(userKey, deviceId));
export const purgeWatermarkKeyBySlot = (userKey: string, slot: string): TableKey => inUser(userKey, `FEEDPURGE#${slot}`);

export const FEED_PREFIX = "FEED#";
export const feedPartition = (userKey: string, deviceId: string): string => `${FEED_PREFIX}${userKey}#${deviceSlot(userKey, deviceId)}`;
export const feedSortKey = (seq: number): string => padded(seq, FEED_SEQ_DIGITS);
export const feedEntryKey = (userKey: string, deviceId: string, seq: number): TableKey => ({ pk: feedPartition(userKey, deviceId), sk: feedSortKey(seq) });

/** `FEED#<userKey>#<device slot>` → its parts; `undefined` for any other key. */
export function parseFeedPartition(pk: string): { userKey: string; deviceSlot: string } | undefined {
  const match = /^FEED#(u_[0-9a-f]{32})#(d_[0-9a-f]{32})$/.exec(pk);
  return match?.[1] && match[2] ? { userKey: match[1], deviceSlot: match[2] } : undefined;
}

export const ENTITY_PREFIX = "ENTITY#";
/** The current version of an entity. */
export const entityKey = (userKey: string, entityType: string, entityId: string): TableKey =>
  inUser(userKey, `${ENTITY_PREFIX}${entityType}#${entitySlot(userKey, entityId)}`);
/** The sort-key prefix of every entity of one type (`begins_with`). */
export const entityTypePrefix = (entityType: string): string => `${ENTITY_PREFIX}${entityType}#`;
/** The sort-key prefix of every history item of one entity (`begins_with`). */
export const historyPrefix = (userKey: string, entityType: string, entityId: string): string => `HIST#${entityType}#${entitySlot(userKey, entityId)}#`;
/** A version that a later write superseded. */
export const historyKey = (userKey: string, entityType: string, entityId: string, version: number): TableKey =>
  inUser(userKey, `${historyPrefix(userKey, entityType, entityId)}${padded(version, VERSION_DIGITS)}#current`);
/** An op that lost (last writer wins) or waits in a manual conflict, kept as it arrived. */
export const opHistoryKey = (userKey: string, entityType: string, entityId: string, opId: string): TableKey =>
  inUser(userKey, `${historyPrefix(userKey, entityType, entityId)}op#${opId}`);

const OP = "OP#";
/** The record that makes an op apply exactly once (written by the worker and the crisis path). */
export const opRecordKey = (userKey: string, opId: string): TableKey => inUser(userKey, `${OP}${opId}`);
export const opIdOfRecord = (sk: string): string => sk.slice(OP.length);

export const CONFLICT_PREFIX = "CONFLICT#";
export const conflictKey = (userKey: string, conflictId: string): TableKey => inUser(userKey, `${CONFLICT_PREFIX}${conflictId}`);

/** Tier limits: the bandwidth token bucket, the offline-queue count and one marker per counted op. */
export const bandwidthKey = (userKey: string): TableKey => inUser(userKey, "LIMIT#BANDWIDTH");
export const pendingCountKey = (userKey: string): TableKey => inUser(userKey, "LIMIT#PENDING");
export const PENDING_PREFIX = "PENDING#";
export const pendingMarkerKey = (userKey: string, opId: string): TableKey => inUser(userKey, `${PENDING_PREFIX}${opId}`);

/** One UTC day's sync data of a user, and its index entry (the usage job reads a day across users). */
export const dailyUsageKey = (userKey: string, day: string): TableKey => inUser(userKey, `USAGE#${day}`);
export const dailyUsageIndexPartition = (day: string): string => `USAGE#${day}`;
export const dailyUsageIndexKey = (day: string, userKey: string): IndexKey => ({ gsi1pk: dailyUsageIndexPartition(day), gsi1sk: userKey });

/** One UTC day's writes of one active session (priority 8), against its ceiling. */
export const sessionUsageKey = (userKey: string, day: string, entityType: string, entityId: string): TableKey =>
  inUser(userKey, `SESSIONUSE#${day}#${entityType}#${entitySlot(userKey, entityId)}`);

// ── Sync table: the crisis directory (SPEC.md §4.2), one global partition, no user's ─────

const CRISIS_DIRECTORY_PARTITION = "CRISIS_DIRECTORY";
/** The current version (read on crisis calls and pulls, cached by each container). */
export const CRISIS_DIRECTORY_CURRENT_KEY: TableKey = { pk: CRISIS_DIRECTORY_PARTITION, sk: "CURRENT" };
/** Every stored version, kept: what was served when. */
export const crisisDirectoryVersionKey = (version: number): TableKey => ({ pk: CRISIS_DIRECTORY_PARTITION, sk: `V#${padded(version, VERSION_DIGITS)}` });
/** The user's saved crisis region (a country code, no more). */
export const crisisRegionKey = (userKey: string): TableKey => inUser(userKey, "CRISIS_REGION");

/** A key no item has: `/health` reads it to see that a table answers. */
export const HEALTH_PROBE_KEY: TableKey = { pk: "health", sk: "health" };

// ── Payments table ────────────────────────────────────────────────────────────────────────

export const PAYMENT_STATE_SORT_KEY = "PAYMENT_STATE";
export const paymentStateKey = (userKey: string): TableKey => inUser(userKey, PAYMENT_STATE_SORT_KEY);
/** Users in a grace period, sorted by when it ends (ISO): one index partition for the expiry job. */
export const GRACE_INDEX_PARTITION = "GRACE";
export const graceIndexKey = (graceEndsAtIso: string): IndexKey => ({ gsi1pk: GRACE_INDEX_PARTITION, gsi1sk: graceEndsAtIso });

export const customerLinkKey = (customerKey: string): TableKey => ({ pk: `CUSTOMER#${customerKey}`, sk: "LINK" });
/** Events of a customer not linked yet, sorted by Stripe time, then event id. */
export const parkedPartition = (customerKey: string): string => `PARKED#${customerKey}`;
export const parkedEventKey = (customerKey: string, createdSeconds: number, eventId: string): TableKey =>
  ({ pk: parkedPartition(customerKey), sk: `${padded(createdSeconds, STRIPE_SECONDS_DIGITS)}#${eventId}` });
export const STRIPE_EVENT_PREFIX = "EVENT#";
export const stripeEventKey = (eventId: string): TableKey => ({ pk: `${STRIPE_EVENT_PREFIX}${eventId}`, sk: "EVENT" });

// ── Connections table: realtime (WebSocket) connections, short-lived ─────────────────────

/** Every connection of a user (`sk` = device, then connection): a poke reads them in one Query. */
export const connectionsPartition = (userKey: string): string => `CONN#${userKey}`;
export const connectionKey = (userKey: string, deviceId: string, connectionId: string): TableKey =>
  ({ pk: connectionsPartition(userKey), sk: `${deviceConnectionsPrefix(userKey, deviceId)}${connectionId}` });
/** The sort-key prefix of one device's connections (`begins_with`). */
export const deviceConnectionsPrefix = (userKey: string, deviceId: string): string => `${deviceSlot(userKey, deviceId)}#`;
/** A connection by its id: `$disconnect` knows only the id. */
export const connectionIdKey = (connectionId: string): TableKey => ({ pk: `CONNID#${connectionId}`, sk: "CONNECTION" });

// ── Audit table: the hash chains, their seals, job state and reports ───────────────────────

/** Days that have chains (`sk` = the day). */
export const AUDIT_DAYS_PARTITION = "AUDIT_DAYS";
export const auditDayKey = (day: string): TableKey => ({ pk: AUDIT_DAYS_PARTITION, sk: day });
/** The chains of one day (`sk` = the chain). */
export const auditDayPartition = (day: string): string => `AUDIT_DAY#${day}`;
export const auditDayChainKey = (day: string, chain: string): TableKey => ({ pk: auditDayPartition(day), sk: chain });
export const auditChainPartition = (chain: string): string => `AUDIT#${chain}`;
export const AUDIT_ENTRY_PREFIX = "E#";
export const auditEntrySortKey = (seq: number): string => `${AUDIT_ENTRY_PREFIX}${padded(seq, AUDIT_SEQ_DIGITS)}`;
export const auditEntryKey = (chain: string, seq: number): TableKey => ({ pk: auditChainPartition(chain), sk: auditEntrySortKey(seq) });

/** A kept entry appended late (by its kept id): written with the entry, so a redelivery is not appended twice. */
export const auditKeptKey = (keptId: string): TableKey => ({ pk: `AUDIT_KEPT#${keptId}`, sk: "APPENDED" });

/** A sealed day's digest (`sk` = the day), and the head of each of its chains. */
export const AUDIT_SEALS_PARTITION = "AUDIT_SEALS";
export const auditSealKey = (day: string): TableKey => ({ pk: AUDIT_SEALS_PARTITION, sk: day });
export const auditSealHeadsPartition = (day: string): string => `${AUDIT_SEALS_PARTITION}#${day}`;
export const auditSealHeadKey = (day: string, chain: string): TableKey => ({ pk: auditSealHeadsPartition(day), sk: chain });

/** A job's lease and checkpoint, and the record of each finished run. */
export const jobStateKey = (job: string): TableKey => ({ pk: `JOB#${job}`, sk: "STATE" });
export const jobRunKey = (job: string, runKey: string): TableKey => ({ pk: `JOB_RUN#${job}`, sk: runKey });

/** Daily usage aggregates: per user, and the day's totals. */
export const userUsageKey = (userKey: string, day: string): TableKey => ({ pk: `USAGE#${userKey}`, sk: `DAY#${day}` });
export const dayUsageKey = (day: string): TableKey => ({ pk: "USAGE_DAY", sk: day });

/** The daily SLO report, and the tallies of the audit slices it is built from. */
export const sloReportKey = (day: string): TableKey => ({ pk: "SLO_REPORT", sk: day });
export const sloPartPartition = (day: string): string => `SLO_PART#${day}`;
export const sloPartKey = (day: string, sliceId: string): TableKey => ({ pk: sloPartPartition(day), sk: sliceId });
