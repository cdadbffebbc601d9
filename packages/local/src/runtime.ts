import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startEmulators, StartupError, type Emulators } from "./emulators.js";
import { handlerEnvironment, realtimeEnvironment, type Endpoints } from "./environment.js";
import { portIsFree } from "./free-port.js";
import { threadHost } from "./function-host.js";
import { startGateway, type ExtraRoute } from "./gateway.js";
import { startPollers } from "./pollers.js";
import { openApiRoute } from "./local-pages.js";
import { localOpsRoute } from "./ops/local-ops.js";
import { provision, type ProvisionedResources } from "./provision.js";
import { localRealtime } from "./realtime.js";
import { startScheduler } from "./scheduler.js";
import { writeFileAtomic, type LocalSettings } from "./settings.js";
import type { FunctionId } from "@paysync/aws/resources";

/** The functions that run on provisioned concurrency in the stacks (`CRISIS_CAPACITY`): warm before ready. */
const WARM_AT_START: readonly FunctionId[] = ["Crisis"];

/** What a running instance writes to its data dir so `npm run job` / `token` can find it. */
export interface RuntimeState {
  pid: number;
  /** Emulator process ids, for fault tests that kill one mid-run. */
  emulatorPids: { dynamodb?: number | undefined; sqs?: number | undefined };
  baseUrl: string;
  endpoints: Endpoints;
  resources: ProvisionedResources;
}

export interface Runtime {
  baseUrl: string;
  endpoints: Endpoints;
  resources: ProvisionedResources;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  /** Run jobs on their schedules (off in tests, which drive jobs with an injected clock). */
  schedule?: boolean;
  extraRoutes?: ExtraRoute[];
  log?: (line: string) => void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const portInUse = (port: number) => new StartupError(`Port ${port} is already in use; set PORT to a free port (e.g. PORT=3001 npm start).`);

export function runtimeStateFile(dataDir: string): string {
  return join(dataDir, "runtime.json");
}

export function readRuntimeState(dataDir: string): RuntimeState | undefined {
  const file = runtimeStateFile(dataDir);
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, "utf8")) as RuntimeState;
  return isAlive(state.pid) ? state : undefined;
}

/**
 * Starts paysync on one machine: emulators, resources, the HTTP gateway, lane pollers and
 * the job scheduler, all calling the handlers Lambda runs.
 */
export async function startRuntime(settings: LocalSettings, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? (() => undefined);
  const running = readRuntimeState(settings.dataDir);
  if (running && running.pid !== process.pid) {
    throw new StartupError(`Another paysync (pid ${running.pid}) is using ${settings.dataDir}; stop it or set PAYSYNC_DATA_DIR.`);
  }
  // A busy port is told at once, not after the emulators took their seconds to start.
  if (settings.port !== 0 && !(await portIsFree(settings.port))) throw portInUse(settings.port);
  let emulators: Emulators | undefined;
  try {
    emulators = await startEmulators(settings.dataDir, log);
    const endpoints: Endpoints = { dynamodb: emulators.dynamodb.endpoint, sqs: emulators.sqs.endpoint, kms: emulators.kms.endpoint };
    const resources = await provision(endpoints);
    const env = handlerEnvironment(settings, endpoints, resources);
    Object.assign(process.env, env);
    // Function threads start on their first invocation and copy the environment then: after
    // the gateway below has its port and the realtime endpoint is known.
    const host = threadHost();
    const realtime = localRealtime(host);

    let gateway;
    try {
      gateway = await startGateway({ port: settings.port, host, jwtSecret: settings.secrets.jwtSecret, extraRoutes: [openApiRoute, realtime.managementRoute, localOpsRoute(settings.secrets.adminToken, endpoints.sqs), ...(options.extraRoutes ?? [])] });
    } catch (error) {
      if ((error as { code?: string }).code === "EADDRINUSE") throw portInUse(settings.port);
      throw error;
    }
    realtime.attach(gateway.server);
    const realtimeEnv = realtimeEnvironment(`http://127.0.0.1:${gateway.port}`);
    Object.assign(process.env, realtimeEnv);
    Object.assign(env, realtimeEnv);
    const pollers = startPollers({
      host,
      sqsEndpoint: endpoints.sqs,
      queues: resources.queues,
      // The name only: a message may quote the data that failed, and logs carry no payloads.
      onError: (lane, error) => log(`lane ${lane}: ${(error as Error).name}`),
    });
    const scheduler = options.schedule === false
      ? undefined
      : startScheduler(host, (job, outcome) => log(`job ${job}: ${outcome}`));
    // Provisioned concurrency in AWS keeps the crisis function initialised; here it is before
    // the runtime reports ready, so the first crisis call after `npm start` is not a cold start.
    await host.warm(WARM_AT_START);
    const baseUrl = `http://127.0.0.1:${gateway.port}`;
    const stateFile = runtimeStateFile(settings.dataDir);
    const started = emulators;
    const writeState = () => writeFileAtomic(stateFile, JSON.stringify({
      pid: process.pid, baseUrl, endpoints, resources,
      emulatorPids: { dynamodb: started.dynamodb.pid(), sqs: started.sqs.pid() },
    } satisfies RuntimeState, null, 2));
    writeState();
    // A restarted emulator has a new pid; keep the state file current for tools and tests.
    const refresh = setInterval(writeState, 1_000);
    refresh.unref();
    return {
      baseUrl, endpoints, resources, env,
      stop: async () => {
        clearInterval(refresh);
        scheduler?.stop();
        realtime.stop();
        await gateway.stop();
        await pollers.stop();
        await host.stop();
        await started.stop();
        rmSync(stateFile, { force: true });
      },
    };
  } catch (error) {
    await emulators?.stop();
    throw error;
  }
}
