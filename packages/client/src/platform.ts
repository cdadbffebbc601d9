/**
 * What the client needs from its platform, as small structural types, and the defaults taken
 * from `globalThis` (browsers, React Native, Node 22). Nothing here imports a platform module:
 * a test or an app injects any of these instead.
 *
 * @example
 * const deps = resolvePlatform({ fetch: myFetch, clock: fakeClock });
 */

/** The slice of `fetch` the client uses. */
export type FetchLike = (url: string, init: FetchInit) => Promise<ResponseLike>;

export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The slice of the WHATWG WebSocket the client uses (browsers, React Native, Node 22, `ws`). */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export type TimerHandle = unknown;

/** Time and timers, injected so tests run on virtual time. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** gzip of a request body; `false` turns compression off. */
export type Compressor = (body: Uint8Array) => Promise<Uint8Array>;

/** The WebCrypto calls used to verify signed entitlements. */
export interface SubtleLike {
  importKey(format: "jwk", key: Record<string, unknown>, algorithm: { name: "ECDSA"; namedCurve: "P-256" }, extractable: boolean, usages: ["verify"]): Promise<unknown>;
  verify(algorithm: { name: "ECDSA"; hash: "SHA-256" }, key: unknown, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}

export interface PlatformOptions {
  fetch?: FetchLike;
  /** A WebSocket class (`globalThis.WebSocket` by default, or `ws`); `false` turns realtime off. */
  WebSocket?: (new (url: string) => WebSocketLike) | false;
  clock?: Clock;
  /** Uniform in [0, 1): back-off jitter. */
  random?: () => number;
  /** A new crypto-random id (opIds, activation ids), matching `^[A-Za-z0-9_-]{1,128}$`. */
  randomId?: () => string;
  compress?: Compressor | false;
  subtle?: SubtleLike;
}

export interface Platform {
  fetch: FetchLike;
  webSocket: WebSocketFactory | null;
  clock: Clock;
  random: () => number;
  randomId: () => string;
  compress: Compressor | null;
  subtle: SubtleLike | null;
}

interface Globals {
  fetch?: FetchLike;
  WebSocket?: new (url: string) => WebSocketLike;
  CompressionStream?: new (format: "gzip") => { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
  crypto?: { getRandomValues?(bytes: Uint8Array): Uint8Array; subtle?: SubtleLike };
}

const g = globalThis as unknown as Globals;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** 132 random bits as 22 base64url characters (each byte's low 6 bits: 256 is a multiple of 64). */
export function cryptoRandomId(getRandomValues: (bytes: Uint8Array) => Uint8Array): string {
  const bytes = getRandomValues(new Uint8Array(22));
  let out = "";
  for (const byte of bytes) out += B64URL[byte & 63];
  return out;
}

/** gzip with the platform's `CompressionStream`, where there is one. */
export function compressionStreamGzip(): Compressor | null {
  const Ctor = g.CompressionStream;
  if (!Ctor) return null;
  return async (body) => {
    const stream = new Ctor("gzip");
    const writer = stream.writable.getWriter();
    void writer.write(body).catch(() => undefined);
    void writer.close().catch(() => undefined);
    const reader = stream.readable.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  };
}

function toFactory(option: PlatformOptions["WebSocket"]): WebSocketFactory | null {
  if (option === false) return null;
  const Ctor = option ?? g.WebSocket;
  return Ctor ? (url) => new Ctor(url) : null;
}

/** Fills in every dependency the options leave out; fails loudly where no safe default exists. */
export function resolvePlatform(options: PlatformOptions): Platform {
  const fetchImpl = options.fetch ?? (g.fetch ? g.fetch.bind(globalThis) : undefined);
  if (!fetchImpl) throw new TypeError("paysync client: no fetch on this platform; pass options.fetch");
  let randomId = options.randomId;
  if (!randomId) {
    const getRandomValues = g.crypto?.getRandomValues?.bind(g.crypto);
    // opIds are idempotency keys: a predictable or colliding id would silently drop a write.
    if (!getRandomValues) throw new TypeError("paysync client: no crypto.getRandomValues; pass options.randomId (React Native: install a getRandomValues polyfill)");
    randomId = () => cryptoRandomId(getRandomValues);
  }
  return {
    fetch: fetchImpl,
    webSocket: toFactory(options.WebSocket),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    randomId,
    compress: options.compress === false ? null : (options.compress ?? compressionStreamGzip()),
    subtle: options.subtle ?? g.crypto?.subtle ?? null,
  };
}
