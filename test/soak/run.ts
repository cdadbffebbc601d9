/**
 * `npm run soak`: a long fault run against a fresh local service (not part of `npm test`).
 * Many users with 2-3 devices push concurrently (mixed priorities, crisis and priority-8 ops,
 * duplicates, retries), Stripe delivers signed events for some users, and the DynamoDB and
 * SQS emulators are killed mid-run (the runtime restarts them on the same port). Devices and
 * Stripe retry 5xx with the same opIds / events. Once the lanes drain, every feed is audited
 * (see audit.ts); the summary is printed and written to `.test-output/soak-summary.json`.
 * Exits 1 on any violation.
 *
 * Bounded by count and time: SOAK_SECONDS (load, default 120), SOAK_MAX_OPS (default 20000),
 * SOAK_USERS (default 60), SOAK_STRIPE_USERS (default 12), SOAK_KILLS (default 4, alternating
 * DynamoDB and SQS), SOAK_DRAIN_SECONDS (longest wait for the lanes to drain, default 300).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { Tier } from "@paysync/core/tiers";
import { TEST_OUTPUT_DIR } from "../helpers/global-setup.js";
import { auditStripe, auditUser, opRecords, type AuditTotals } from "./audit.js";
import { SoakDevices, type LedgerOp, type SoakUser } from "./devices.js";
import { startSoakService, type SoakService } from "./service.js";
import { deliver, stripeStream, type StripeStats } from "./stripe.js";

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const CONFIG = {
  seconds: env("SOAK_SECONDS", 120),
  maxOps: env("SOAK_MAX_OPS", 20_000),
  users: env("SOAK_USERS", 60),
  stripeUsers: env("SOAK_STRIPE_USERS", 12),
  kills: env("SOAK_KILLS", 4),
  drainSeconds: env("SOAK_DRAIN_SECONDS", 300),
};
/** Device retries go on this long after the load ends, as a phone would keep trying. */
const RETRY_GRACE_MS = 120_000;
const TIER_MIX: Tier[] = ["premium", "premium", "premium", "premium", "basic", "basic", "basic", "trial", "trial", "free"];
const ROOT = resolve(import.meta.dirname, "../..");

const started = Date.now();
const runId = started.toString(36);
const log = (line: string) => console.log(`soak ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s: ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function makeUser(svc: SoakService, label: string, devices: number, tier: Tier | undefined): Promise<SoakUser> {
  const userId = `soak-${label}-${runId}`;
  const token = await svc.token(userId);
  const deviceIds: string[] = [];
  for (let d = 0; d < devices; d++) {
    const deviceId = `${label}-d${d}-${runId}`;
    const answer = await svc.request("POST", "/v1/devices", { token, body: JSON.stringify({ deviceId, platform: ["ios", "android", "web"][d % 3], primary: d === 0 }) });
    if (answer.status !== 201) throw new Error(`registering ${deviceId} answered ${answer.status}`);
    deviceIds.push(deviceId);
  }
  const userKey = svc.userKeyOf(userId);
  if (tier) await svc.setTier(userKey, tier);
  return { userId, userKey, token, tier: tier ?? "free", deviceIds };
}

async function healthy(svc: SoakService, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await svc.request("GET", "/health")).status === 200) return true;
    await sleep(200);
  }
  return false;
}

interface Kill { emulator: "dynamodb" | "sqs"; atSeconds: number; recoveryMs: number | null }

/** Kills the emulators in turn, evenly over the first 90 % of the load, and times each recovery. */
async function chaos(svc: SoakService, loadStarted: number): Promise<Kill[]> {
  const kills: Kill[] = [];
  const killed = new Set<number>();
  for (let k = 0; k < CONFIG.kills; k++) {
    await sleep(loadStarted + (CONFIG.seconds * 900 * (k + 1)) / (CONFIG.kills + 1) - Date.now());
    const emulator = k % 2 === 0 ? "dynamodb" : "sqs";
    let pid = svc.emulatorPid(emulator);
    // The runtime rewrites runtime.json within a second of a restart: wait for the new pid.
    for (let i = 0; i < 50 && (pid === undefined || killed.has(pid)); i++) { await sleep(200); pid = svc.emulatorPid(emulator); }
    if (pid === undefined || killed.has(pid)) { log(`no ${emulator} pid to kill`); continue; }
    killed.add(pid);
    const at = Date.now();
    process.kill(pid, "SIGKILL");
    log(`killed ${emulator} (pid ${pid})`);
    const ok = await healthy(svc, 120_000);
    kills.push({ emulator, atSeconds: Math.round((at - loadStarted) / 1000), recoveryMs: ok ? Date.now() - at : null });
    log(ok ? `${emulator} back after ${Date.now() - at} ms` : `${emulator} did not come back within 120 s`);
  }
  return kills;
}

async function laneDepth(svc: SoakService): Promise<{ lanes: number; deadLetters: number }> {
  let lanes = 0;
  let deadLetters = 0;
  for (const queue of Object.values(svc.state.resources.queues)) {
    for (const [url, dead] of [[queue.url, false], [queue.dlqUrl, true]] as const) {
      const { Attributes = {} } = await svc.sqs.send(new GetQueueAttributesCommand({
        QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
      }));
      const depth = Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
      if (dead) deadLetters += depth; else lanes += depth;
    }
  }
  return { lanes, deadLetters };
}

/**
 * Until every lane and DLQ is empty, twice in a row (DLQs redriven by the job, as the schedule
 * does in production): nothing is in flight then, so an accepted op not applied is lost.
 */
async function drain(svc: SoakService, accepted: LedgerOp[]): Promise<{ seconds: number; redrives: number; drained: boolean }> {
  const from = Date.now();
  let redrives = 0;
  let quiet = 0;
  while (Date.now() - from < CONFIG.drainSeconds * 1000) {
    const depth = await laneDepth(svc);
    const applied = await opRecords(svc, accepted);
    if (depth.deadLetters > 0) {
      log(`${depth.deadLetters} dead-lettered message(s): running the dlq-redrive job`);
      spawnSync(join(ROOT, "node_modules/.bin/node"), [join(ROOT, "node_modules/tsx/dist/cli.mjs"), "packages/local/src/job-cli.ts", "dlq-redrive"], {
        cwd: ROOT, env: { ...process.env, PAYSYNC_DATA_DIR: svc.dataDir }, stdio: "ignore",
      });
      redrives += 1;
    }
    quiet = depth.lanes === 0 && depth.deadLetters === 0 ? quiet + 1 : 0;
    if (quiet >= 2) return { seconds: Math.round((Date.now() - from) / 1000), redrives, drained: true };
    log(`draining: ${applied.size}/${accepted.length} accepted ops applied, ${depth.lanes} message(s) in lanes`);
    await sleep(3_000);
  }
  return { seconds: Math.round((Date.now() - from) / 1000), redrives, drained: false };
}

log(`starting a fresh service (${JSON.stringify(CONFIG)})`);
const svc = await startSoakService();
let exitCode = 1;
try {
  const users: SoakUser[] = [];
  for (let i = 0; i < CONFIG.users; i += 10) {
    users.push(...(await Promise.all(Array.from({ length: Math.min(10, CONFIG.users - i) }, (_, j) =>
      makeUser(svc, `u${i + j}`, 2 + ((i + j) % 2), TIER_MIX[(i + j) % TIER_MIX.length])))));
  }
  const streams = [];
  for (let i = 0; i < CONFIG.stripeUsers; i++) streams.push(stripeStream(await makeUser(svc, `s${i}`, 2, undefined), i, runId));
  const deviceCount = [...users, ...streams.map((s) => s.user)].reduce((sum, u) => sum + u.deviceIds.length, 0);
  log(`${users.length} users and ${streams.length} Stripe users, ${deviceCount} devices; load for ${CONFIG.seconds} s`);

  const devices = new SoakDevices(svc, CONFIG.maxOps, runId);
  const stripeStats: StripeStats = { deliveries: 0, faults: 0, violations: [] };
  const loadStarted = Date.now();
  const loadEnds = loadStarted + CONFIG.seconds * 1000;
  const giveUpAt = loadEnds + RETRY_GRACE_MS;
  const progress = setInterval(() => log(`${devices.ledger.size} ops, ${devices.stats.pushes} pushes, ${devices.stats.serverErrors} 5xx and ${devices.stats.noAnswer} unanswered retried, ${stripeStats.deliveries} Stripe deliveries`), 15_000);
  const [kills] = await Promise.all([
    chaos(svc, loadStarted),
    ...users.flatMap((user) => user.deviceIds.map((deviceId) => devices.run(user, deviceId, loadEnds, giveUpAt))),
    ...streams.flatMap((stream) => stream.user.deviceIds.map((deviceId) => devices.run(stream.user, deviceId, loadEnds, giveUpAt, { crisisOnly: true }))),
    ...streams.map((stream) => deliver(svc, stream, CONFIG.seconds * 1000, giveUpAt, stripeStats)),
  ]);
  clearInterval(progress);
  const loadSeconds = Math.round((Date.now() - loadStarted) / 1000);

  const ops = [...devices.ledger.values()];
  const fates = { accepted: 0, rejected: 0, uncertain: 0 };
  for (const op of ops) fates[op.fate] += 1;
  log(`load done: ${ops.length} ops (${JSON.stringify(fates)}); draining`);
  await healthy(svc, 120_000);
  const drained = await drain(svc, ops.filter((op) => op.fate === "accepted"));

  log("auditing every feed");
  const totals: AuditTotals = { feedsAudited: 0, changesAudited: 0, violations: [] };
  const opsByUser = new Map<string, LedgerOp[]>();
  for (const op of ops) opsByUser.set(op.user.userId, [...(opsByUser.get(op.user.userId) ?? []), op]);
  for (const user of [...users, ...streams.map((s) => s.user)]) await auditUser(svc, user, opsByUser.get(user.userId) ?? [], totals);
  for (const stream of streams) await auditStripe(svc, stream, totals);

  const violations = [...devices.stats.violations, ...stripeStats.violations, ...totals.violations, ...(drained.drained ? [] : [`lanes not drained within ${CONFIG.drainSeconds} s`])];
  const summary = {
    config: CONFIG,
    users: users.length, stripeUsers: streams.length, devices: deviceCount,
    ops: ops.length, ...fates,
    crisisOps: ops.filter((op) => op.crisis).length,
    pushes: devices.stats.pushes, pulls: devices.stats.pulls, serverErrorsRetried: devices.stats.serverErrors, unansweredRetried: devices.stats.noAnswer,
    statuses: devices.stats.statuses, limitRetries: devices.stats.limited, duplicatesAnswered: devices.stats.duplicatesAnswered, doubleSends: devices.stats.doubleSends,
    stripeEvents: streams.reduce((sum, s) => sum + s.events.length, 0), stripeDeliveries: stripeStats.deliveries, stripeFaultsRetried: stripeStats.faults,
    kills, drain: drained, feedsAudited: totals.feedsAudited, changesAudited: totals.changesAudited,
    violations: violations.length, firstViolations: violations.slice(0, 50),
    loadSeconds, totalSeconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(join(TEST_OUTPUT_DIR, "soak-summary.json"), JSON.stringify(summary, null, 2));
  console.log(JSON.stringify(summary, null, 2));
  log(violations.length === 0 ? "PASS: no violations" : `FAIL: ${violations.length} violation(s)`);
  exitCode = violations.length === 0 ? 0 : 1;
} catch (error) {
  console.error(`soak: ${error instanceof Error ? error.stack : String(error)}`);
} finally {
  await svc.stop();
}
process.exit(exitCode);
