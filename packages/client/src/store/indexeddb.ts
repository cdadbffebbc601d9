/**
 * A {@link ClientStore} on IndexedDB, for browsers (and anything that offers the IndexedDB API).
 * One database per device, one object store `kv` of JSON text under string keys; every `write`
 * is one `readwrite` transaction with `durability: "strict"`, so it is atomic and on disk when it
 * resolves. The factory and key-range constructor are injected (they default to the globals) so
 * the adapter carries no DOM types and can be tested with an in-memory IndexedDB.
 *
 * @example
 * const store = await openIndexedDbStore({ name: `paysync-${deviceId}` });
 */
import { isDelete, serialise, type ClientStore, type StoreEntry, type StoreWrite } from "./store.js";

/* The few IndexedDB shapes used here, structurally (lib.dom's types satisfy them). */
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
interface IdbCursor {
  key: unknown;
  value: unknown;
  continue(): void;
}
interface IdbObjectStore {
  get(key: string): IdbRequest<unknown>;
  put(value: unknown, key: string): unknown;
  delete(key: string): unknown;
  openCursor(range: unknown): IdbRequest<IdbCursor | null>;
}
interface IdbTransaction {
  objectStore(name: string): IdbObjectStore;
  oncomplete: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onabort: ((event: unknown) => void) | null;
  error: unknown;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(stores: string[], mode: "readonly" | "readwrite", options?: { durability?: "strict" | "relaxed" | "default" }): IdbTransaction;
  close(): void;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: ((event: unknown) => void) | null;
  onblocked: ((event: unknown) => void) | null;
}
export interface IdbFactoryLike {
  open(name: string, version?: number): IdbOpenRequest;
}
export interface IdbKeyRangeLike {
  bound(lower: string, upper: string, lowerOpen?: boolean, upperOpen?: boolean): unknown;
}

export interface IndexedDbStoreOptions {
  /** Database name: one per device, e.g. `paysync-<deviceId>`. */
  name: string;
  indexedDB?: IdbFactoryLike;
  IDBKeyRange?: IdbKeyRangeLike;
}

const STORE = "kv";

function done<T>(request: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export async function openIndexedDbStore(options: IndexedDbStoreOptions): Promise<ClientStore> {
  const globals = globalThis as unknown as { indexedDB?: IdbFactoryLike; IDBKeyRange?: IdbKeyRangeLike };
  const factory = options.indexedDB ?? globals.indexedDB;
  const keyRange = options.IDBKeyRange ?? globals.IDBKeyRange;
  if (!factory || !keyRange) throw new TypeError("paysync client: no IndexedDB here; pass indexedDB and IDBKeyRange");
  const request = factory.open(options.name, 1);
  request.onupgradeneeded = () => {
    if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
  };
  const db = await done(request);

  return {
    async get<T>(key: string) {
      const text = await done(db.transaction([STORE], "readonly").objectStore(STORE).get(key));
      return typeof text === "string" ? (JSON.parse(text) as T) : undefined;
    },
    list<T>(prefix: string): Promise<Array<StoreEntry<T>>> {
      const entries: Array<StoreEntry<T>> = [];
      // Keys are compared by code unit; \uffff sorts after every character the client uses.
      const cursorRequest = db.transaction([STORE], "readonly").objectStore(STORE).openCursor(keyRange.bound(prefix, `${prefix}\uffff`));
      return new Promise<Array<StoreEntry<T>>>((resolve, reject) => {
        cursorRequest.onsuccess = () => {
          const cursor = cursorRequest.result;
          if (!cursor) return resolve(entries);
          entries.push({ key: String(cursor.key), value: JSON.parse(String(cursor.value)) as T });
          cursor.continue();
        };
        cursorRequest.onerror = () => reject(cursorRequest.error);
      });
    },
    async write(batch: readonly StoreWrite[]) {
      const prepared = batch.map((w) => ({ key: w.key, text: isDelete(w) ? null : serialise(w.key, w.value) }));
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction([STORE], "readwrite", { durability: "strict" });
        const store = tx.objectStore(STORE);
        for (const { key, text } of prepared) {
          if (text === null) store.delete(key);
          else store.put(text, key);
        }
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
      });
    },
    async close() {
      db.close();
    },
  };
}
