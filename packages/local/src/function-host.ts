import { Worker } from "node:worker_threads";
import type { FunctionId } from "@paysync/aws/resources";
import { lambdaContext, loadHandler } from "./handlers.js";

/** Invokes a function's handler, as Lambda would, wherever the handler runs. */
export interface FunctionHost {
  invoke(functionId: FunctionId, event: unknown): Promise<unknown>;
  /**
   * Starts these functions' instances and resolves once each has initialised: the local
   * analogue of provisioned concurrency (the crisis function's first call is not a cold start).
   */
  warm(functionIds: readonly FunctionId[]): Promise<void>;
  stop(): Promise<void>;
}

/** Handlers in this thread: for one-shot tools (`npm run job`). */
export function inProcessHost(): FunctionHost {
  return {
    invoke: async (functionId, event) => (await loadHandler(functionId))(event, lambdaContext(functionId)),
    warm: async (functionIds) => { await Promise.all(functionIds.map((id) => loadHandler(id))); },
    stop: async () => undefined,
  };
}

export class FunctionInvocationError extends Error {}

interface Instance {
  worker: Worker;
  pending: Map<number, { resolve(value: unknown): void; reject(error: Error): void }>;
  /** Settles when the handler has loaded in the thread. */
  ready: Promise<void>;
}

/**
 * Each function in a thread of its own, as each Lambda function has its own instances: a
 * flood of pushes keeps the push function busy without queueing the crisis function's
 * requests behind it on one event loop. The process environment (bindings, endpoints) is
 * copied into each thread when it starts.
 */
export function threadHost(): FunctionHost {
  const instances = new Map<FunctionId, Instance>();
  let next = 0;

  function instance(functionId: FunctionId): Instance {
    const existing = instances.get(functionId);
    if (existing) return existing;
    const worker = new Worker(new URL("./function-worker.mjs", import.meta.url), { workerData: { functionId } });
    let settleReady: (error?: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => { settleReady = (error) => (error ? reject(error) : resolve()); });
    // Nobody may wait on it; an instance that fails to load also fails its invocations.
    ready.catch(() => undefined);
    const created: Instance = { worker, pending: new Map(), ready };
    worker.on("message", (message: { id: number; ready?: boolean; message?: string; result?: unknown; error?: { name: string; message: string } }) => {
      if (message.ready !== undefined) {
        settleReady(message.ready ? undefined : new FunctionInvocationError(`${functionId} did not initialise: ${message.message ?? ""}`));
        return;
      }
      const call = created.pending.get(message.id);
      if (!call) return;
      created.pending.delete(message.id);
      if (message.error) call.reject(Object.assign(new FunctionInvocationError(message.error.message), { name: message.error.name }));
      else call.resolve(message.result);
    });
    const fail = (error: Error) => {
      settleReady(error);
      // A crashed instance fails its in-flight invocations; the next invocation starts a new one.
      if (instances.get(functionId) === created) instances.delete(functionId);
      for (const call of created.pending.values()) call.reject(error);
      created.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new FunctionInvocationError(`${functionId} instance exited (${code})`)));
    worker.unref();
    instances.set(functionId, created);
    return created;
  }

  return {
    invoke(functionId, event) {
      const target = instance(functionId);
      const id = ++next;
      return new Promise((resolve, reject) => {
        target.pending.set(id, { resolve, reject });
        target.worker.postMessage({ id, event });
      });
    },
    async warm(functionIds) {
      await Promise.all(functionIds.map((id) => instance(id).ready));
    },
    async stop() {
      const all = [...instances.values()];
      instances.clear();
      await Promise.all(all.map((i) => i.worker.terminate()));
    },
  };
}
