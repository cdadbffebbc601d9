/**
 * Pull cursors (SPEC.md §4, §4.1). A cursor is opaque to devices (base64url) and says where the
 * next page starts:
 *
 * - no cursor: a bootstrap starts — the snapshot point is read, then the snapshot's first page;
 * - snapshot phase, `v2.s.<S>.<entityType>.<entityId>` (or `v2.s.<S>.` before the first
 *   entity): `S` is the user's commit sequence when the bootstrap started, the entity the last
 *   page ended on;
 * - feed phase, `v1.<seq>`: the last feed sequence number the device has seen (the format every
 *   cursor had before bootstrap existed, so old cursors keep working).
 * - either phase may end in `~<n>`: the crisis directory version the device was given (SPEC.md
 *   §4.2). Absent (an older cursor): 0, so the next page carries the directory.
 *
 * @example
 * decodeCursor(undefined);     // { phase: "start", directoryVersion: 0 }
 * encodeCursor(42);            // "djEuNDI" — feed phase after seq 42
 * encodeSnapshotCursor(42, { entityType: "mood_entry", entityId: "m-1" });
 */
import { ValidationError } from "../errors.js";

const FEED_PREFIX = "v1.";
const SNAPSHOT_PREFIX = "v2.s.";
const SEQ = "\\d{1,15}";
const ID = "[A-Za-z0-9_-]{1,128}";
const DIRECTORY = "(?:~(\\d{1,10}))?";
const FEED_CURSOR = new RegExp(`^v1\\.(${SEQ})${DIRECTORY}$`);
const SNAPSHOT_CURSOR = new RegExp(`^v2\\.s\\.(${SEQ})\\.(?:(${ID})\\.(${ID}))?${DIRECTORY}$`);

/** The entity a snapshot page ended on (pages go in key order: type, then id). */
export interface EntityPosition {
  entityType: string;
  entityId: string;
}

export type PullPosition =
  | { phase: "start"; directoryVersion: 0 }
  | { phase: "snapshot"; snapshotSeq: number; after: EntityPosition | null; directoryVersion: number }
  | { phase: "feed"; seq: number; directoryVersion: number };

const base64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

const directorySuffix = (directoryVersion: number) => (directoryVersion > 0 ? `~${directoryVersion}` : "");

/** A feed-phase cursor: the device has seen every change up to `seq`, and directory version `directoryVersion` (0: none). */
export function encodeCursor(seq: number, directoryVersion = 0): string {
  return base64url(`${FEED_PREFIX}${seq}${directorySuffix(directoryVersion)}`);
}

/** A snapshot-phase cursor: bootstrap at commit sequence `snapshotSeq`, after `after` (null: from the first entity). */
export function encodeSnapshotCursor(snapshotSeq: number, after: EntityPosition | null, directoryVersion = 0): string {
  return base64url(`${SNAPSHOT_PREFIX}${snapshotSeq}.${after ? `${after.entityType}.${after.entityId}` : ""}${directorySuffix(directoryVersion)}`);
}

const invalid = () => new ValidationError("Invalid cursor", [{ path: ["cursor"], code: "custom", message: "not a cursor this API issued" }]);

/** Where a pull starts; a cursor this API did not issue is a `ValidationError` (400). */
export function decodeCursor(cursor: string | undefined): PullPosition {
  if (cursor === undefined) return { phase: "start", directoryVersion: 0 };
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const feed = FEED_CURSOR.exec(text);
  if (feed?.[1]) return { phase: "feed", seq: Number(feed[1]), directoryVersion: Number(feed[2] ?? 0) };
  const snapshot = SNAPSHOT_CURSOR.exec(text);
  if (snapshot?.[1]) {
    const [, seq, entityType, entityId, directoryVersion] = snapshot;
    return { phase: "snapshot", snapshotSeq: Number(seq), after: entityType && entityId ? { entityType, entityId } : null, directoryVersion: Number(directoryVersion ?? 0) };
  }
  throw invalid();
}
