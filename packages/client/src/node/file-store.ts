/**
 * A {@link ClientStore} in one JSON file per device directory, for Node (the simulator CLI,
 * scripts, servers acting as a device). Every write replaces the file atomically: the new content
 * goes to a temporary file in the same directory, is flushed to disk, and is renamed over the old
 * one (then the directory is flushed), so after a crash the file holds either the state before
 * a batch or after it, never half of it. Batches that arrive while a write is under way are
 * committed together by the next one (group commit); each `write` resolves once its batch is on
 * disk. Sized for a device's data (thousands of entities): every commit rewrites the whole file.
 *
 * @example
 * const store = await openFileStore(join(dataDir, deviceId));
 */
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { isDelete, serialise, type ClientStore, type StoreEntry, type StoreWrite } from "../store/store.js";

export const STORE_FILE = "paysync-client.json";

interface Pending {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export async function openFileStore(dir: string): Promise<ClientStore> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, STORE_FILE);
  const data = new Map<string, string>();
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    for (const [key, value] of Object.entries(parsed)) data.set(key, JSON.stringify(value));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }

  let waiting: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let counter = 0;

  async function persist(): Promise<void> {
    const text = `{${[...data].map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",")}}`;
    const tmp = join(dir, `.${STORE_FILE}.${process.pid}.${(counter += 1)}.tmp`);
    const handle = await open(tmp, "w");
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, file);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    // The rename itself is durable once the directory entry is flushed (not possible everywhere).
    const dirHandle = await open(dir, "r").catch(() => null);
    if (dirHandle) await dirHandle.sync().catch(() => undefined).finally(() => dirHandle.close());
  }

  function flush(): void {
    if (flushing || waiting.length === 0) return;
    const batch = waiting;
    waiting = [];
    flushing = persist()
      .then(() => batch.forEach((p) => p.resolve()), (error: unknown) => batch.forEach((p) => p.reject(error)))
      .finally(() => {
        flushing = null;
        flush();
      });
  }

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
    write(batch: readonly StoreWrite[]) {
      let prepared: Array<{ key: string; text: string | null }>;
      try {
        prepared = batch.map((w) => ({ key: w.key, text: isDelete(w) ? null : serialise(w.key, w.value) }));
      } catch (error) {
        return Promise.reject(error);
      }
      for (const { key, text } of prepared) {
        if (text === null) data.delete(key);
        else data.set(key, text);
      }
      return new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        flush();
      });
    },
    async close() {
      while (flushing) await flushing;
    },
  };
}
