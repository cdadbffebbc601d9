import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateKeyCommand, KMSClient, type CreateKeyCommandInput, type KeyMetadata } from "@aws-sdk/client-kms";
import { freePort } from "@paysync/local/free-port";
import { startLocalKms } from "@paysync/local/kms-server";

export const REGION = "us-east-1";

/** The real SDK client, as the services build it, pointed at a KMS endpoint in `region`. */
export function kmsClient(endpoint: string, region = REGION, maxAttempts = 1): KMSClient {
  return new KMSClient({ endpoint, region, maxAttempts, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
}

export interface KmsUnderTest {
  endpoint: string;
  client: KMSClient;
  stop(): Promise<void>;
}

export interface LocalKmsUnderTest extends KmsUnderTest {
  stateFile: string;
  /** Stops the endpoint and starts a new one on the same state file, as a machine restart would. */
  restart(): Promise<void>;
}

/**
 * The local endpoint on a free port, with its own state file in a fresh directory (removed by
 * `stop`); `initialState` is written to that file before the endpoint starts.
 */
export async function startLocalKmsForTest(options: { clock?: () => number; initialState?: string } = {}): Promise<LocalKmsUnderTest> {
  const directory = mkdtempSync(join(tmpdir(), "paysync-kms-"));
  const stateFile = join(directory, "kms.json");
  if (options.initialState !== undefined) writeFileSync(stateFile, options.initialState, { mode: 0o600 });
  const start = () => startLocalKms({ port: 0, host: "127.0.0.1", stateFile, ...(options.clock ? { clock: options.clock } : {}) });
  let kms = await start();
  const local: LocalKmsUnderTest = {
    endpoint: kms.endpoint, client: kmsClient(kms.endpoint), stateFile,
    restart: async () => {
      local.client.destroy();
      await kms.stop();
      kms = await start();
      local.endpoint = kms.endpoint;
      local.client = kmsClient(kms.endpoint);
    },
    stop: async () => {
      local.client.destroy();
      await kms.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
  return local;
}

export const motoServerPath = spawnSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" }).stdout.trim();

/** moto_server (an independent KMS emulator, when installed) on a free port; `stop` ends that process only. */
export async function startMotoServer(): Promise<KmsUnderTest> {
  if (!motoServerPath) throw new Error("moto_server is not on PATH");
  const port = await freePort();
  const moto: ChildProcess = spawn(motoServerPath, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await fetch(endpoint).then(() => true, () => false))) {
    if (Date.now() > deadline || moto.exitCode !== null) {
      moto.kill("SIGKILL");
      throw new Error("moto_server did not start");
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const client = kmsClient(endpoint);
  return {
    endpoint, client,
    stop: async () => {
      client.destroy();
      if (moto.exitCode !== null) return;
      const exited = new Promise((resolve) => moto.once("exit", resolve));
      moto.kill("SIGTERM");
      await exited;
    },
  };
}

export async function createKey(client: KMSClient, input: CreateKeyCommandInput = {}): Promise<KeyMetadata & { KeyId: string; Arn: string }> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: "paysync test key", ...input }));
  if (!KeyMetadata?.KeyId || !KeyMetadata.Arn) throw new Error("CreateKey returned no key");
  return { ...KeyMetadata, KeyId: KeyMetadata.KeyId, Arn: KeyMetadata.Arn };
}

/** The error name a request fails with, or "success": tables of cases compare names, as callers branch on them. */
export async function outcomeOf(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return "success";
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}
