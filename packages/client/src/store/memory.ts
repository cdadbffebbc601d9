/**
 * An in-memory {@link ClientStore}: for tests and for apps that want no persistence. Values are
 * copied in and out as JSON, as a disk store would, so a caller never shares objects with it.
 *
 * @example
 * const client = createPaysyncClient({ ...options, store: createMemoryStore() });
 */
import { isDelete, serialise, type ClientStore, type StoreEntry, type StoreWrite } from "./store.js";

export interface MemoryStore extends ClientStore {
  /** A snapshot of every entry, for tests. */
  dump(): Record<string, unknown>;
}

export function createMemoryStore(initial: Record<string, unknown> = {}): MemoryStore {
  const data = new Map<string, string>(Object.entries(initial).map(([key, value]) => [key, JSON.stringify(value)]));
  return {
    async get<T>(key: string) {
      const text = data.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    async list<T>(prefix: string) {
      const entries: Array<StoreEntry<T>> = [];
      for (const [key, text] of data) if (key.startsWith(prefix)) entries.push({ key, value: JSON.parse(text) as T });
      return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async write(batch: readonly StoreWrite[]) {
      // Serialise every value first: a value that cannot be stored fails the batch, not half of it.
      const prepared = batch.map((w) => ({ key: w.key, text: isDelete(w) ? null : serialise(w.key, w.value) }));
      for (const { key, text } of prepared) {
        if (text === null) data.delete(key);
        else data.set(key, text);
      }
    },
    dump() {
      return Object.fromEntries([...data].map(([key, text]) => [key, JSON.parse(text)]));
    },
  };
}
