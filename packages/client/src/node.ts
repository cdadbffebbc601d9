/**
 * `@paysync/client/node`: everything of `@paysync/client`, plus what only Node has — a file
 * store (one JSON file per device directory, atomic write-rename). Node 22 has `fetch`,
 * `WebSocket`, `CompressionStream` and WebCrypto built in, so no other defaults are needed.
 *
 * @example
 * import { createPaysyncClient, openFileStore } from "@paysync/client/node";
 * const client = createPaysyncClient({ ...options, store: await openFileStore(`.paysync/devices/${deviceId}`) });
 */
export * from "./index.js";
export { openFileStore, STORE_FILE } from "./node/file-store.js";
