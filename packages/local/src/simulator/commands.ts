import { createHash, randomBytes } from "node:crypto";
import { AssessmentPayloadSchema, scoreAssessment } from "@paysync/core/sync";
import { CliError, type ServiceClient } from "./service.js";
import type { SimulatorStore } from "./state.js";

/**
 * The device side of the simulator: register devices, push and pull, take an assessment, use
 * the crisis routes — each one HTTP call as an app would make it, with the user's dev token.
 */
export interface Context {
  client: ServiceClient;
  store: SimulatorStore;
  user: string;
  device: string;
  options: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** What a command prints: `lines` for people, `data` with `--json`. */
export interface Output {
  data: unknown;
  lines: string[];
}

/**
 * The default device of a user. Device ids are global (one belongs to one user) and end up in
 * table keys, so they are derived from the user id without containing it: `phone-<12 hex>`.
 */
export const deviceIdFor = (user: string, name: string): string =>
  `${name}-${createHash("sha256").update(`paysync-simulator-device:${user}`).digest("hex").slice(0, 12)}`;

/**
 * The device a command acts as when no --device is given: the simulator's own default if the
 * user has it, else the user's primary (or first) registered device — so a phone registered
 * by hand (README: curl … alice-phone) is the one `npx paysync crisis activate --user alice`
 * uses — else the simulator's default, which `devices register` then registers.
 */
export async function defaultDevice(client: ServiceClient, user: string): Promise<string> {
  const own = deviceIdFor(user, "phone");
  const answer = await client.call("GET", "/v1/devices", [200], { user });
  const devices = (answer.json as { devices: Array<{ deviceId: string; primary: boolean }> }).devices;
  if (devices.length === 0 || devices.some((d) => d.deviceId === own)) return own;
  return (devices.find((d) => d.primary) ?? devices[0]!).deviceId;
}

export const newId = (prefix: string): string => `${prefix}-${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
const str = (ctx: Context, name: string): string | undefined => (typeof ctx.options[name] === "string" ? (ctx.options[name] as string) : undefined);

function int(ctx: Context, name: string, fallback: number): number {
  const raw = str(ctx, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new CliError(`--${name} must be a non-negative integer`, 2);
  return value;
}

function json(ctx: Context, name: string): unknown {
  const raw = str(ctx, name);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new CliError(`--${name} must be JSON, e.g. '{"note":"slept well"}'`, 2);
  }
}

const brief = (value: unknown): string => {
  const text = JSON.stringify(value) ?? "";
  return text.length > 90 ? `${text.slice(0, 87)}…` : text;
};

export async function devicesRegister(ctx: Context): Promise<Output> {
  const ids = ctx.positionals.length > 0 ? ctx.positionals : [ctx.device];
  const platform = str(ctx, "platform") ?? "ios";
  const devices = [];
  const lines = [];
  for (const deviceId of ids) {
    const body = { deviceId, platform, ...(ctx.options.primary ? { primary: true } : {}) };
    const answer = await ctx.client.call("POST", "/v1/devices", [200, 201], { user: ctx.user, body });
    devices.push(answer.json);
    lines.push(`${answer.status === 201 ? "registered" : "already registered"}: ${deviceId} (${platform}) for user ${ctx.user}`);
  }
  return { data: { user: ctx.user, devices }, lines };
}

export async function devicesList(ctx: Context): Promise<Output> {
  const answer = await ctx.client.call("GET", "/v1/devices", [200], { user: ctx.user });
  const devices = (answer.json as { devices: Array<{ deviceId: string; platform: string; primary: boolean; lastSeenAt: string }> }).devices;
  const lines = devices.length === 0
    ? [`user ${ctx.user} has no devices (npx paysync devices register <id>)`]
    : [`devices of ${ctx.user}:`, ...devices.map((d) => `  ${d.deviceId.padEnd(20)} ${d.platform.padEnd(8)} ${d.primary ? "primary " : "        "} last seen ${d.lastSeenAt}`)];
  return { data: answer.json, lines };
}

export async function devicesRemove(ctx: Context): Promise<Output> {
  const deviceId = ctx.positionals[0] ?? ctx.device;
  await ctx.client.call("DELETE", `/v1/devices/${encodeURIComponent(deviceId)}`, [204], { user: ctx.user });
  return { data: { user: ctx.user, removed: deviceId }, lines: [`removed: ${deviceId}`] };
}

const DEFAULT_PAYLOADS: Record<string, unknown> = {
  check_in: { mood: "okay", note: "simulated check-in" },
  mood_entry: { mood: 3, tags: ["simulated"] },
  breathing_session: { pattern: "4-7-8", minutes: 3 },
  therapeutic_session: { program: "MBCT", step: 1, active: true },
  user_profile: { displayName: "Sim" },
  preferences: { theme: "dark" },
};

async function pushOp(ctx: Context, op: Record<string, unknown>): Promise<Output & { result: { status: string; priority: number; lane: string; reason?: string } }> {
  const answer = await ctx.client.call("POST", "/v1/sync/push", [200], { user: ctx.user, device: ctx.device, body: { ops: [op] } });
  const result = (answer.json as { results: Array<{ opId: string; status: string; priority: number; lane: string; reason?: string }> }).results[0]!;
  const line = `${op.entityType}/${op.entityId} from ${ctx.device}: ${result.status} — priority ${result.priority}, lane ${result.lane}${result.reason ? ` (${result.reason})` : ""}`;
  return { data: { op, result }, lines: [line], result };
}

export async function push(ctx: Context): Promise<Output> {
  const entityType = str(ctx, "type") ?? "check_in";
  const remove = ctx.options.delete === true;
  const payload = json(ctx, "payload") ?? DEFAULT_PAYLOADS[entityType] ?? { note: "simulated" };
  return pushOp(ctx, {
    opId: newId("op"), entityType, entityId: str(ctx, "entity") ?? newId("e"),
    action: remove ? "delete" : "upsert", baseVersion: int(ctx, "base-version", 0),
    ...(remove ? {} : { payload }), clientTime: new Date().toISOString(),
  });
}

export async function pull(ctx: Context): Promise<Output> {
  const saved = ctx.options.reset ? undefined : ctx.store.user(ctx.user).cursors[ctx.device];
  const cursor = str(ctx, "cursor") ?? saved;
  const query = new URLSearchParams();
  if (cursor) query.set("cursor", cursor);
  if (str(ctx, "limit")) query.set("limit", String(int(ctx, "limit", 100)));
  const answer = await ctx.client.call("GET", `/v1/sync/pull${query.size > 0 ? `?${query}` : ""}`, [200], { user: ctx.user, device: ctx.device });
  const page = answer.json as {
    changes: Array<{ seq: number; entityType: string; entityId: string; version: number; action: string; payload: unknown; priority: number; originDeviceId: string | null }>;
    cursor: string; hasMore: boolean; minIntervalMs: number;
  };
  ctx.store.setCursor(ctx.user, ctx.device, page.cursor);
  const lines = [
    `${page.changes.length} change(s) for ${ctx.device}${cursor ? " since the last pull" : ""}:`,
    ...page.changes.map((c) => `  #${c.seq} p${c.priority} ${c.entityType}/${c.entityId} v${c.version} ${c.action} from ${c.originDeviceId ?? "server"} ${c.action === "delete" ? "" : brief(c.payload)}`),
    `cursor ${page.cursor}${page.hasMore ? " (more waiting)" : ""}; next pull in ≥ ${page.minIntervalMs / 1000} s`,
  ];
  return { data: page, lines };
}

export async function assessment(ctx: Context): Promise<Output> {
  const instrument = (str(ctx, "instrument") ?? "PHQ-9").toUpperCase();
  const defaults = instrument === "GAD-7" ? "1,1,1,1,1,1,1" : "1,1,1,1,1,1,1,1,0";
  const answers = (str(ctx, "answers") ?? defaults).split(",").map((a) => Number(a.trim()));
  const parsed = AssessmentPayloadSchema.safeParse({ instrument, answers });
  if (!parsed.success) throw new CliError("an assessment is --instrument PHQ-9 with 9 --answers, or GAD-7 with 7, each 0–3 (e.g. --answers 0,1,2,1,0,1,2,1,0)", 2);
  const score = scoreAssessment(parsed.data);
  const pushed = await pushOp(ctx, {
    opId: newId("op"), entityType: "assessment", entityId: str(ctx, "entity") ?? newId("assessment"),
    action: "upsert", baseVersion: 0, payload: parsed.data, clientTime: new Date().toISOString(),
  });
  const verdict = score.crisis
    ? "over the crisis threshold: applied at crisis priority, crisis mode is on for every device"
    : "below the crisis thresholds";
  const item9 = score.item9 === undefined ? "" : `, item 9: ${score.item9}`;
  return { data: { score, ...(pushed.data as object) }, lines: [`${instrument} total ${score.total}${item9} — ${verdict}`, ...pushed.lines] };
}

interface LineBrief { name: string; call?: string; text?: { number: string; message?: string }; chatUrl?: string; url?: string }
const lineBrief = (line: LineBrief) => [
  line.name, line.call && `call ${line.call}`, line.text && `text ${line.text.message ? `${line.text.message} to ` : ""}${line.text.number}`,
  line.chatUrl && `chat ${line.chatUrl}`, line.url,
].filter(Boolean).join(" — ");

function resourcesLines(body: { region?: string; lines?: LineBrief[]; fallback?: LineBrief[]; directoryVersion?: number; hotline: { name: string; call: string; text: string }; safetyPlan: unknown; emergencyContacts: unknown[]; crisisMode: { active: boolean; level: string | null } }): string[] {
  return [
    `crisis mode: ${body.crisisMode.active ? `ACTIVE (${body.crisisMode.level})` : "off"}`,
    ...(body.lines ?? []).map((line) => `${body.region} line: ${lineBrief(line)}`),
    ...(body.fallback ?? []).map((line) => `elsewhere: ${lineBrief(line)}`),
    `hotline: ${body.hotline.name} — call ${body.hotline.call}, text ${body.hotline.text}${body.directoryVersion === undefined ? "" : ` (directory v${body.directoryVersion})`}`,
    `safety plan: ${body.safetyPlan ? "on file" : "none yet"}; emergency contacts: ${body.emergencyContacts.length}`,
  ];
}

export async function crisis(ctx: Context, action: string | undefined): Promise<Output> {
  const started = performance.now();
  let answer;
  if (action === "activate") {
    const body = { deviceId: ctx.device, level: str(ctx, "level") ?? "high", source: str(ctx, "source") ?? "button" };
    answer = await ctx.client.call("POST", "/v1/crisis/activate", [200], { user: ctx.user, body });
  } else if (action === "resources") {
    answer = await ctx.client.call("GET", "/v1/crisis/resources", [200], { user: ctx.user });
  } else if (action === "resolve") {
    answer = await ctx.client.call("POST", "/v1/crisis/resolve", [200], { user: ctx.user, body: { deviceId: ctx.device } });
  } else {
    throw new CliError("usage: paysync crisis activate|resources|resolve [--level moderate|high|imminent] [--source button|assessment|clinician]", 2);
  }
  const took = `${action} answered in ${(performance.now() - started).toFixed(0)} ms`;
  const lines = action === "resolve"
    ? [`crisis mode: ${answer.json.crisisMode.active ? "still active" : "resolved"}`, took]
    : [...resourcesLines(answer.json), took];
  return { data: answer.json, lines };
}

export async function entitlements(ctx: Context): Promise<Output> {
  const answer = await ctx.client.call("GET", "/v1/me/entitlements", [200], { user: ctx.user });
  const e = answer.json as { tier: string; status: string; graceEndsAt: string | null; featureFlags: { enabled: string[] }; crisisAccess: boolean };
  return {
    data: e,
    lines: [
      `user ${ctx.user}: tier ${e.tier} (${e.status})${e.graceEndsAt ? `, grace period ends ${e.graceEndsAt}` : ""}`,
      `features: ${e.featureFlags.enabled.join(", ")}`,
      `crisis access: ${e.crisisAccess ? "yes" : "NO"}`,
    ],
  };
}

export function ops(ctx: Context): Output {
  const url = ctx.client.opsUrl();
  return { data: { url }, lines: [`ops dashboard: ${url}`] };
}
