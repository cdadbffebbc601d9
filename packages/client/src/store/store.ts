/**
 * Where the client keeps what must survive a restart: the op queue, the entity cache, the pull
 * cursor, the crisis kit and the signed entitlements. A small async key/value interface, so an
 * app can back it with IndexedDB, SQLite, MMKV, a file or memory.
 *
 * Contract:
 * - Values are plain JSON (objects, arrays, strings, finite numbers, booleans, null).
 * - `write` is atomic: after a crash either every write of the batch is there or none is.
 * - `write` resolves only once the batch is durable (it will be read back after a restart).
 * - `list(prefix)` returns the entries whose key starts with `prefix`, sorted by key (UTF-16
 *   code units, as `<` compares strings).
 * - One store belongs to one client (one device): two clients must not share one.
 *
 * @example
 * await store.write([{ key: "op/0000000000000001", value: op }, { key: "meta/seq", value: 1 }]);
 * const ops = await store.list("op/");
 */
export type StoreWrite = { key: string; value: unknown } | { key: string; delete: true };

export interface StoreEntry<T = unknown> {
  key: string;
  value: T;
}

export interface ClientStore {
  get<T = unknown>(key: string): Promise<T | undefined>;
  list<T = unknown>(prefix: string): Promise<Array<StoreEntry<T>>>;
  write(batch: readonly StoreWrite[]): Promise<void>;
  /** Releases files or connections (the app owns the store: call it after `client.stop()`). */
  close?(): Promise<void>;
}

export const isDelete = (write: StoreWrite): write is { key: string; delete: true } => "delete" in write;

/** A value as stored text; `undefined` (or a function) is a bug in the caller, not a delete. */
export function serialise(key: string, value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`store: the value of ${key} is not JSON`);
  return text;
}
