import { existsSync } from "node:fs";
import { resolve } from "node:path";
import Stripe from "stripe";
import { signDevToken } from "../jwt.js";
import { readRuntimeState, runtimeStateFile } from "../runtime.js";
import { loadSettings, type LocalSecrets } from "../settings.js";

/** A failure the CLI reports in one line, with its exit code (1: the service said no, 2: usage). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface HttpAnswer {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- shapes are the OpenAPI document's
  text: string;
  headers: Headers;
}

/** The running service the simulator plays against, and the secrets it shares with it. */
export interface ServiceTarget {
  baseUrl: string;
  dataDir: string;
  secrets: LocalSecrets;
}

/**
 * Finds the service: `--url`, else the `runtime.json` that `npm start` writes in the data dir
 * (`PAYSYNC_DATA_DIR`, default `.paysync/`). Tokens, the webhook secret and the admin token
 * come from the same data dir (or the same environment variables the service reads).
 */
export function findService(url: string | undefined): ServiceTarget {
  const dataDir = resolve(process.env.PAYSYNC_DATA_DIR || ".paysync");
  // Without a service to talk to, leave no data dir (and no generated secrets) behind.
  if (url === undefined && !existsSync(runtimeStateFile(dataDir))) {
    throw new CliError(`no running service uses ${dataDir}; start it with npm start (or pass --url and PAYSYNC_DATA_DIR)`);
  }
  const settings = loadSettings();
  const baseUrl = url ?? readRuntimeState(settings.dataDir)?.baseUrl;
  if (baseUrl === undefined) {
    throw new CliError(`no running service uses ${settings.dataDir}; start it with npm start (or pass --url and PAYSYNC_DATA_DIR)`);
  }
  return { baseUrl: baseUrl.replace(/\/+$/, ""), dataDir: settings.dataDir, secrets: settings.secrets };
}

/**
 * The outside world's side of the HTTP API: devices with a user's dev token, Stripe with signed
 * webhooks (the `stripe` package's test signature, as Stripe's own CLI makes them).
 */
export class ServiceClient {
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(readonly target: ServiceTarget) {}

  token(userId: string): Promise<string> {
    let token = this.tokens.get(userId);
    if (token === undefined) {
      token = signDevToken(this.target.secrets.jwtSecret, userId);
      this.tokens.set(userId, token);
    }
    return token;
  }

  async request(method: string, path: string, options: { user?: string; device?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.user !== undefined) headers.authorization = `Bearer ${await this.token(options.user)}`;
    if (options.device !== undefined) headers["x-device-id"] = options.device;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.target.baseUrl}${path}`, {
        method, headers, signal: AbortSignal.timeout(30_000),
        ...(options.body === undefined ? {} : { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }),
      });
    } catch (error) {
      throw new CliError(`cannot reach paysync at ${this.target.baseUrl}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text();
    let json: unknown;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: response.status, json, text, headers: response.headers };
  }

  /** Like `request`, but an answer outside `expected` is a `CliError` naming the API's error. */
  async call(method: string, path: string, expected: number[], options: Parameters<ServiceClient["request"]>[2] = {}): Promise<HttpAnswer> {
    const answer = await this.request(method, path, options);
    if (!expected.includes(answer.status)) throw new CliError(`${method} ${path}: ${describeError(answer)}`);
    return answer;
  }

  /** Posts a Stripe event signed with the service's webhook secret. */
  async sendStripeEvent(event: { id: string; type: string }): Promise<HttpAnswer> {
    const payload = JSON.stringify(event, null, 2);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: this.target.secrets.stripeWebhookSecret });
    const answer = await this.request("POST", "/webhooks/stripe", { body: payload, headers: { "stripe-signature": signature } });
    if (answer.status !== 200) throw new CliError(`Stripe event ${event.type} was refused: ${describeError(answer)}`);
    return answer;
  }

  /** A call to an operators' admin route, with the admin (ops) token. */
  admin(method: string, path: string, body?: string): Promise<HttpAnswer> {
    return this.request(method, path, { headers: { authorization: `Bearer ${this.target.secrets.adminToken}` }, ...(body === undefined ? {} : { body }) });
  }

  /** The dashboard's address, with the admin token that opens it. */
  opsUrl(): string {
    return `${this.target.baseUrl}/ops?token=${this.target.secrets.adminToken}`;
  }
}

export function describeError(answer: HttpAnswer): string {
  const error = (answer.json as { error?: { code?: string; message?: string }; message?: string } | undefined);
  const detail = error?.error ? `${error.error.code ?? "error"}: ${error.error.message ?? ""}` : error?.message ?? answer.text.slice(0, 200);
  const retry = answer.headers.get("retry-after");
  return `HTTP ${answer.status} ${detail}${retry ? ` (retry after ${retry} s)` : ""}`;
}
