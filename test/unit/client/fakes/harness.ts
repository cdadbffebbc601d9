/**
 * One place that builds a client on the fakes: virtual clock, in-memory server, fake sockets,
 * deterministic ids and jitter. Tests override what they need.
 */
import { createPaysyncClient, type PaysyncClient, type PaysyncClientOptions } from "@paysync/client";
import { createMemoryStore, type MemoryStore } from "@paysync/client/store/memory";
import { gzipSync } from "node:zlib";
import { FakeClock } from "./clock.js";
import { FakePaysyncServer } from "./server.js";
import { FakeWebSocket } from "./websocket.js";

export interface World {
  clock: FakeClock;
  server: FakePaysyncServer;
  store: MemoryStore;
}

export async function world(): Promise<World> {
  const clock = new FakeClock();
  FakeWebSocket.reset();
  return { clock, server: await FakePaysyncServer.create(clock), store: createMemoryStore() };
}

let ids = 0;
/** Ids that are unique within a run and readable in failures. */
export const nextId = (): string => `op${String((ids += 1)).padStart(6, "0")}`;

export function makeClient(w: World, overrides: Partial<PaysyncClientOptions> = {}): PaysyncClient {
  return createPaysyncClient({
    baseUrl: "http://paysync.test",
    getToken: () => "token-user-1",
    deviceId: "phone-1",
    platform: "ios",
    appVersion: "1.0.0",
    store: w.store,
    fetch: w.server.fetch,
    WebSocket: FakeWebSocket,
    clock: w.clock,
    random: () => 0.5,
    randomId: nextId,
    compress: async (bytes) => new Uint8Array(gzipSync(bytes)),
    subtle: crypto.subtle as never,
    ...overrides,
  });
}
