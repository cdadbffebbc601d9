/**
 * Errors as values with codes, the way the server answers them (`{"error": {code, message,
 * details}}`), plus the client's own: `network_error` (no answer) and `timeout` (the watchdog
 * aborted a request).
 *
 * @example
 * if (error instanceof PaysyncHttpError && error.code === "resync_required") dropCursor();
 */

/** Anything a sync step can fail with, as reported in status and events. */
export interface SyncErrorInfo {
  code: string;
  message: string;
  /** HTTP status, when the server answered. */
  status?: number;
  /** When this happened (client clock, ms). */
  at: number;
}

export class PaysyncClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server answered with a status outside 2xx/304. */
export class PaysyncHttpError extends PaysyncClientError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    details: unknown,
    /** From `Retry-After`, in ms, when the answer had one. */
    readonly retryAfterMs: number | null,
  ) {
    super(code, message, details);
  }
}

/** No answer: the connection failed, dropped, or the watchdog aborted the request. */
export class PaysyncNetworkError extends PaysyncClientError {
  constructor(
    readonly timedOut: boolean,
    message: string,
  ) {
    super(timedOut ? "timeout" : "network_error", message);
  }
}

/** The server no longer speaks this client's protocol version: update the app. */
export class UpgradeRequiredError extends PaysyncClientError {
  constructor(readonly supported: { min: number; max: number } | null) {
    super("protocol_unsupported", "This app is too old for the server: update it");
  }
}

/** A retry is worth it: 5xx, 408, network errors and timeouts. */
export function isTransient(error: unknown): boolean {
  if (error instanceof PaysyncNetworkError) return true;
  if (error instanceof PaysyncHttpError) return error.status >= 500 || error.status === 408;
  return false;
}

export function errorInfo(error: unknown, at: number): SyncErrorInfo {
  if (error instanceof PaysyncHttpError) return { code: error.code, message: error.message, status: error.status, at };
  if (error instanceof PaysyncClientError) return { code: error.code, message: error.message, at };
  return { code: "client_error", message: error instanceof Error ? error.message : String(error), at };
}

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
