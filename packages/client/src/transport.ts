/**
 * Every HTTP call of the client goes through here: the bearer token (asked of the app each time,
 * refreshed once on a 401), the protocol header, the watchdog that aborts a hung request, gzip
 * of large bodies, and answers turned into values or typed errors. A `426` is raised as
 * {@link UpgradeRequiredError} wherever it comes from, so no caller can retry it by mistake.
 *
 * @example
 * const { body, headers } = await transport.request({ method: "GET", path: "/v1/sync/pull", query: { limit: 100 } });
 */
import { PaysyncHttpError, PaysyncNetworkError, UpgradeRequiredError, parseRetryAfter } from "./errors.js";
import type { Clock, Compressor, FetchLike, ResponseLike } from "./platform.js";
import { ErrorResponseSchema, PROTOCOL_VERSION, ProtocolUnsupportedDetailsSchema } from "./protocol.js";

export interface TokenRequest {
  /** True after the server refused the previous token (401): the app should refresh it. */
  forceRefresh: boolean;
}
export type GetToken = (request: TokenRequest) => Promise<string> | string;

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  body?: unknown;
  /** Watchdog: abort after this long. */
  timeoutMs?: number;
  /** gzip the body when it is larger than the threshold and a compressor exists. */
  compress?: boolean;
  /** The `/.well-known` routes take no token. */
  auth?: boolean;
}

export interface Answer {
  status: number;
  headers: { get(name: string): string | null };
  /** Parsed JSON, or null for an empty body (304, 204). */
  body: unknown;
  durationMs: number;
  /** Bytes sent (after compression) and received, for adaptive batching. */
  bytesSent: number;
  bytesReceived: number;
}

export interface TransportOptions {
  baseUrl: string;
  getToken: GetToken;
  fetch: FetchLike;
  clock: Clock;
  compress: Compressor | null;
  defaultTimeoutMs: number;
  /** Bodies above this many bytes are gzipped (when `compress` is set on the request). */
  compressAboveBytes: number;
  /** Told after every request whether the server could be reached (any answer) or not. */
  onReachable?: (reachable: boolean) => void;
}

const encoder = new TextEncoder();

export class Transport {
  private readonly baseUrl: string;
  private readonly active = new Set<AbortController>();

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  url(path: string, query?: RequestSpec["query"]): string {
    const params = Object.entries(query ?? {}).filter(([, v]) => v !== undefined && v !== "");
    const search = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join("&");
    return `${this.baseUrl}${path}${search ? `?${search}` : ""}`;
  }

  private closed = false;

  /**
   * The client is stopping: aborts every request under way and fails new ones at once (as
   * network errors) until `reopen()`, so no loop can start a request that outlives `stop()`.
   */
  close(): void {
    this.closed = true;
    for (const controller of this.active) controller.abort();
  }

  reopen(): void {
    this.closed = false;
  }

  token(forceRefresh = false): Promise<string> {
    return Promise.resolve(this.options.getToken({ forceRefresh }));
  }

  /** Answers any status in 2xx or 304; throws {@link PaysyncHttpError} for the rest. */
  async request(spec: RequestSpec): Promise<Answer> {
    const answer = await this.send(spec, false);
    if (answer.status !== 401 || spec.auth === false) return this.check(answer);
    // One retry with a fresh token: the app's token may simply have expired.
    return this.check(await this.send(spec, true));
  }

  private async send(spec: RequestSpec, forceRefresh: boolean): Promise<Answer> {
    const { clock } = this.options;
    if (this.closed) throw new PaysyncNetworkError(false, `${spec.method} ${spec.path}: the client is stopping`);
    const headers: Record<string, string> = { accept: "application/json", "x-paysync-protocol": String(PROTOCOL_VERSION), ...spec.headers };
    if (spec.auth !== false) headers.authorization = `Bearer ${await this.token(forceRefresh)}`;
    let body: string | Uint8Array | undefined;
    let bytesSent = 0;
    if (spec.body !== undefined) {
      headers["content-type"] = "application/json";
      const text = JSON.stringify(spec.body);
      const raw = encoder.encode(text);
      bytesSent = raw.byteLength;
      body = text;
      if (spec.compress && this.options.compress && raw.byteLength > this.options.compressAboveBytes) {
        body = await this.options.compress(raw);
        bytesSent = body.byteLength;
        headers["content-encoding"] = "gzip";
      }
    }
    const controller = new AbortController();
    this.active.add(controller);
    const timeoutMs = spec.timeoutMs ?? this.options.defaultTimeoutMs;
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const started = clock.now();
    let response: ResponseLike;
    let text: string;
    try {
      response = await this.options.fetch(this.url(spec.path, spec.query), { method: spec.method, headers, body, signal: controller.signal });
      text = await response.text();
    } catch (error) {
      this.options.onReachable?.(false);
      const message = timedOut ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
      throw new PaysyncNetworkError(timedOut, `${spec.method} ${spec.path}: ${message}`);
    } finally {
      clock.clearTimeout(timer);
      this.active.delete(controller);
    }
    this.options.onReachable?.(true);
    let parsed: unknown = null;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // A proxy's HTML error page: keep the status, there is no error body to read.
        parsed = null;
      }
    }
    return {
      status: response.status, headers: response.headers, body: parsed, durationMs: clock.now() - started,
      bytesSent, bytesReceived: text.length,
    };
  }

  private check(answer: Answer): Answer {
    if ((answer.status >= 200 && answer.status < 300) || answer.status === 304) return answer;
    const error = ErrorResponseSchema.safeParse(answer.body);
    const code = error.success ? error.data.error.code : `http_${answer.status}`;
    const details = error.success ? error.data.error.details : undefined;
    if (answer.status === 426) {
      const range = ProtocolUnsupportedDetailsSchema.safeParse(details);
      throw new UpgradeRequiredError(range.success ? range.data.supported : null);
    }
    throw new PaysyncHttpError(
      answer.status, code, error.success ? error.data.error.message : `HTTP ${answer.status}`, details,
      parseRetryAfter(answer.headers.get("retry-after"), this.options.clock.now()),
    );
  }
}
