/**
 * The realtime socket: `ws(s)://HOST/v1/realtime?token=<JWT>&deviceId=<id>`, on which the server
 * sends only `{"type":"poke","priority":n}` ("pull now"). It reconnects after a close with capped
 * back-off and full jitter (reset once a connection has stayed up for `stableMs`), gives up on
 * a connection attempt that does not open within `connectTimeoutMs`, and reports whether it is
 * up so the receiver polls while it is not.
 *
 * @example
 * const realtime = new Realtime({ ...deps, onPoke: (p) => receiver.poke(p) });
 * realtime.start();
 */
import { Backoff, type BackoffPolicy } from "./backoff.js";
import type { Clock, TimerHandle, WebSocketFactory, WebSocketLike } from "./platform.js";
import { PokeSchema } from "./protocol.js";

export interface RealtimeDeps {
  factory: WebSocketFactory;
  /** The socket URL without its query: `ws://127.0.0.1:3000/v1/realtime`. */
  url: string;
  deviceId: string;
  getToken: (forceRefresh: boolean) => Promise<string>;
  clock: Clock;
  random: () => number;
  backoff: BackoffPolicy;
  connectTimeoutMs: number;
  /** A connection up this long resets the back-off. */
  stableMs: number;
  onPoke: (priority: number) => void;
  onConnected: (connected: boolean) => void;
  onError: (error: unknown) => void;
}

export class Realtime {
  private socket: WebSocketLike | null = null;
  private readonly backoff: Backoff;
  private timer: TimerHandle | null = null;
  private stableTimer: TimerHandle | null = null;
  private running = false;
  private connected = false;
  /** The previous attempt closed before it opened: maybe the token; ask for a fresh one. */
  private refreshToken = false;
  /** Waits of the reconnects so far, for tests and diagnostics. */
  readonly reconnectDelays: number[] = [];

  constructor(private readonly deps: RealtimeDeps) {
    this.backoff = new Backoff(deps.backoff, deps.random);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      socket.close(1000, "client stopped");
    }
    this.setConnected(false);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    let token: string;
    try {
      token = await this.deps.getToken(this.refreshToken);
    } catch (error) {
      this.deps.onError(error);
      return this.reconnectLater();
    }
    if (!this.running) return;
    const url = `${this.deps.url}?token=${encodeURIComponent(token)}&deviceId=${encodeURIComponent(this.deps.deviceId)}`;
    let socket: WebSocketLike;
    try {
      socket = this.deps.factory(url);
    } catch (error) {
      this.deps.onError(error);
      return this.reconnectLater();
    }
    this.socket = socket;
    let opened = false;
    const connectTimer = this.deps.clock.setTimeout(() => {
      if (!opened && this.socket === socket) this.drop(socket, false);
    }, this.deps.connectTimeoutMs);
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.deps.clock.clearTimeout(connectTimer);
      this.refreshToken = false;
      this.setConnected(true);
      this.stableTimer = this.deps.clock.setTimeout(() => this.backoff.reset(), this.deps.stableMs);
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      const text = typeof event.data === "string" ? event.data : "";
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return;
      }
      const poke = PokeSchema.safeParse(message);
      if (poke.success) this.deps.onPoke(poke.data.priority);
    };
    const onGone = () => {
      this.deps.clock.clearTimeout(connectTimer);
      if (this.socket === socket) this.drop(socket, opened);
    };
    socket.onclose = onGone;
    socket.onerror = onGone;
  }

  private drop(socket: WebSocketLike, opened: boolean): void {
    detach(socket);
    try {
      socket.close();
    } catch {
      // already closed
    }
    this.socket = null;
    if (!opened) this.refreshToken = true;
    if (this.stableTimer !== null) this.deps.clock.clearTimeout(this.stableTimer);
    this.stableTimer = null;
    this.setConnected(false);
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (!this.running || this.timer !== null) return;
    const wait = this.backoff.next();
    this.reconnectDelays.push(wait);
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, wait);
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.deps.onConnected(connected);
  }

  private clearTimers(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    if (this.stableTimer !== null) this.deps.clock.clearTimeout(this.stableTimer);
    this.timer = null;
    this.stableTimer = null;
  }
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = null;
}

/** `http(s)://host/base` → `ws(s)://host/base/v1/realtime`. */
export function defaultRealtimeUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, "").replace(/^http(s?):/i, "ws$1:")}/v1/realtime`;
}
