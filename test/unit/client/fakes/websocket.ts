/**
 * A WebSocket the test drives: it records every instance; the test opens, pokes and closes them.
 */
import type { WebSocketLike } from "@paysync/client/platform";

export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closed = false;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  static latest(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }

  open(): void {
    this.onopen?.({});
  }

  poke(priority: number): void {
    this.onmessage?.({ data: JSON.stringify({ type: "poke", priority }) });
  }

  send(data: string): void {
    this.onmessage?.({ data });
  }

  /** The server (or the network) closes it. */
  drop(code = 1006): void {
    this.closed = true;
    this.onclose?.({ code });
  }

  close(): void {
    this.closed = true;
  }
}
