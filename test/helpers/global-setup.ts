import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import type { RuntimeState } from "@paysync/local/runtime";
import type { LocalSecrets } from "@paysync/local/settings";
import { describeLeaks, findLeaksInLogs, findLeaksInQueues, findLeaksInTables, type Leak } from "./pii-check.js";
import { DEVICE_CHOSEN, knownPiiValues, RECORDED_PII_FILE } from "./pii-fixtures.js";

export interface RuntimeHandle extends RuntimeState {
  dataDir: string;
  secrets: LocalSecrets;
  logFile: string;
}

declare module "vitest" {
  interface ProvidedContext {
    runtime: RuntimeHandle;
  }
}

const ROOT = resolve(import.meta.dirname, "../..");
export const TEST_OUTPUT_DIR = join(ROOT, ".test-output");

/** Starts the real local runtime once, as `npm start` would, for every integration test file. */
/**
 * `npm start` in a child process. `ownProcessGroup`: as in a terminal, where Ctrl-C signals the
 * runtime and its emulators at once (stop it with `stopRuntimeProcess(child, { group: true })`).
 */
export async function startRuntimeProcess(dataDir: string, logFile: string, extraEnv: Record<string, string> = {}, options: { ownProcessGroup?: boolean } = {}) {
  // The bench runs on a fresh clone too, before any test has made the output folder.
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: "a" });
  // The project's own Node 22 (the `node` devDependency), whatever Node runs vitest.
  const child = spawn(join(ROOT, "node_modules/.bin/node"), [join(ROOT, "node_modules/tsx/dist/cli.mjs"), "--disable-warning=ExperimentalWarning", "packages/local/src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", PAYSYNC_DATA_DIR: dataDir, PAYSYNC_SCHEDULER: "off", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.ownProcessGroup === true,
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const baseUrl = await new Promise<string>((done, fail) => {
    let seen = "";
    const timer = setTimeout(() => fail(new Error(`runtime did not start in 150 s:\n${seen}`)), 150_000);
    child.stdout.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match?.[1]) { clearTimeout(timer); done(match[1]); }
    });
    child.once("exit", (code) => { clearTimeout(timer); fail(new Error(`runtime exited (${code}):\n${seen}`)); });
  });
  return { child, baseUrl };
}

export function stopRuntimeProcess(child: ChildProcess, options: { group?: boolean } = {}): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => { clearTimeout(timer); done(); });
    // A terminal's Ctrl-C signals the whole process group: the emulators too.
    if (options.group && child.pid !== undefined) process.kill(-child.pid, "SIGINT");
    else child.kill("SIGINT");
  });
}

export default async function setup(project: TestProject) {
  mkdirSync(TEST_OUTPUT_DIR, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), "paysync-it-"));
  const logFile = join(TEST_OUTPUT_DIR, "runtime.log");
  rmSync(logFile, { force: true });
  writeFileSync(RECORDED_PII_FILE, "");
  rmSync(join(TEST_OUTPUT_DIR, "in-process.log"), { force: true });
  const { child } = await startRuntimeProcess(dataDir, logFile);
  const state = JSON.parse(readFileSync(join(dataDir, "runtime.json"), "utf8")) as RuntimeState;
  const secrets = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as LocalSecrets;
  project.provide("runtime", { ...state, dataDir, secrets, logFile });
  return async () => {
    // The suite-wide PII check runs once every integration test is done: stored state and
    // queues while the service still runs, its whole log output once it has stopped.
    const leaks: Leak[] = [];
    let checkFailure: unknown;
    try {
      leaks.push(...(await findLeaksInTables(state.endpoints.dynamodb, state.resources.tables, knownPiiValues())));
      leaks.push(...(await findLeaksInQueues(state.endpoints.sqs, state.resources.queues, knownPiiValues())));
      // Device-chosen ids named after their owner: never in a key or queue metadata (items may hold them).
      leaks.push(...(await findLeaksInTables(state.endpoints.dynamodb, state.resources.tables, Object.values(DEVICE_CHOSEN), { keysOnly: true })));
      leaks.push(...(await findLeaksInQueues(state.endpoints.sqs, state.resources.queues, Object.values(DEVICE_CHOSEN), { metadataOnly: true })));
    } catch (error) {
      checkFailure = error;
    }
    await stopRuntimeProcess(child);
    rmSync(dataDir, { recursive: true, force: true });
    leaks.push(...findLeaksInLogs([logFile, join(TEST_OUTPUT_DIR, "in-process.log")], [...knownPiiValues(), ...Object.values(DEVICE_CHOSEN)]));
    writeFileSync(join(TEST_OUTPUT_DIR, "pii-leaks.json"), JSON.stringify(leaks, null, 2));
    // Vitest reports an error thrown here but still exits 0; the exit code is what CI sees.
    if (leaks.length > 0 || checkFailure !== undefined) {
      process.exitCode = 1;
      console.error(checkFailure === undefined ? describeLeaks(leaks) : `PII check could not run: ${String(checkFailure)}`);
    } else {
      console.log(`PII check passed: ${knownPiiValues().length} known values absent from logs, table items and queues`);
    }
  };
}
