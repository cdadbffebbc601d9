import { Worker } from "node:worker_threads";
import type { FunctionId } from "@paysync/aws/resources";
import { lambdaContext, loadHandler } from "./handlers.js";

/** Invokes a function's handler, as Lambda would, wherever the handler runs. */
export interface FunctionHost {
  invoke(functionId: FunctionId, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** Handlers in this thread: for one-shot tools (`npm run job`). */
export function inProcessHost(): FunctionHost {
  return {
    invoke: async (functionId, event) => (await loadHandler(functionId))(event, lambdaContext(functionId)),
    stop: async () => undefined,
  };
}

export class FunctionInvocationError extends Error {}

interface Instance {
  worker: Worker;
  pending: Map<number, { resolve(value: unknown): void; reject(error: Error): void }>;
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
    const created: Instance = { worker, pending: new Map() };
    worker.on("message", (message: { id: number; result?: unknown; error?: { name: string; message: string } }) => {
      const call = created.pending.get(message.id);
      if (!call) return;
      created.pending.delete(message.id);
      if (message.error) call.reject(Object.assign(new FunctionInvocationError(message.error.message), { name: message.error.name }));
      else call.resolve(message.result);
    });
    const fail = (error: Error) => {
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
    async stop() {
      const all = [...instances.values()];
      instances.clear();
      await Promise.all(all.map((i) => i.worker.terminate()));
    },
  };
}
