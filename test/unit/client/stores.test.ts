import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { afterAll, describe, expect, it } from "vitest";
import { openFileStore, STORE_FILE } from "@paysync/client/node";
import { createMemoryStore } from "@paysync/client/store/memory";
import { openIndexedDbStore } from "@paysync/client/store/indexeddb";
import type { ClientStore } from "@paysync/client/store/store";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "paysync-client-store-"));
  dirs.push(dir);
  return dir;
}

/** Each kind of store, with a way to open the same store again (a restart). */
const kinds: Array<{ name: string; open: () => Promise<{ store: ClientStore; reopen: () => Promise<ClientStore> }> }> = [
  {
    name: "memory",
    open: async () => {
      const store = createMemoryStore();
      return { store, reopen: async () => store };
    },
  },
  {
    name: "file",
    open: async () => {
      const dir = await tempDir();
      return { store: await openFileStore(dir), reopen: () => openFileStore(dir) };
    },
  },
  {
    name: "IndexedDB",
    open: async () => {
      const indexedDB = new IDBFactory();
      const options = { name: "paysync-phone-1", indexedDB: indexedDB as never, IDBKeyRange: IDBKeyRange as never };
      return { store: await openIndexedDbStore(options), reopen: () => openIndexedDbStore(options) };
    },
  },
];

describe.each(kinds)("the $name store", ({ open }) => {
  it("reads back what was written, after a restart too", async () => {
    // Prepare
    const { store, reopen } = await open();

    // Act
    await store.write([{ key: "op/0002", value: { n: 2 } }, { key: "op/0001", value: { n: 1, nested: [true, null] } }, { key: "meta/seq", value: 3 }]);
    await store.write([{ key: "op/0002", delete: true }]);
    await store.close?.();
    const again = await reopen();

    // Assess
    expect(await again.get("op/0001")).toEqual({ n: 1, nested: [true, null] });
    expect(await again.get("op/0002")).toBeUndefined();
    expect(await again.get("meta/seq")).toBe(3);
  });

  it("lists a prefix in key order and nothing else", async () => {
    // Prepare
    const { store } = await open();
    await store.write([
      { key: "op/0010", value: 10 }, { key: "op/0002", value: 2 }, { key: "opx", value: "no" }, { key: "entity/a/b", value: "no" },
    ]);

    // Act
    const listed = await store.list("op/");

    // Assess
    expect(listed).toEqual([{ key: "op/0002", value: 2 }, { key: "op/0010", value: 10 }]);
  });

  it("refuses a batch with a value that is not JSON, and writes none of it", async () => {
    // Prepare
    const { store } = await open();

    // Act
    const attempt = store.write([{ key: "a", value: 1 }, { key: "b", value: undefined }]);

    // Assess
    await expect(attempt).rejects.toThrow(/not JSON/);
    expect(await store.get("a")).toBeUndefined();
  });

  it("hands out copies: changing a value read does not change the store", async () => {
    // Prepare
    const { store } = await open();
    await store.write([{ key: "k", value: { list: [1] } }]);

    // Act
    const read = await store.get<{ list: number[] }>("k");
    read!.list.push(2);

    // Assess
    expect(await store.get("k")).toEqual({ list: [1] });
  });
});

describe("the file store", () => {
  it("commits concurrent batches together, leaves no temporary file and one JSON file per device directory", async () => {
    // Prepare
    const dir = await tempDir();
    const store = await openFileStore(dir);

    // Act
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.write([{ key: `op/${String(i).padStart(4, "0")}`, value: i }])));
    await store.close?.();

    // Assess
    expect(await readdir(dir)).toEqual([STORE_FILE]);
    const saved = JSON.parse(await readFile(join(dir, STORE_FILE), "utf8")) as Record<string, number>;
    expect(Object.keys(saved)).toHaveLength(20);
  });
});
