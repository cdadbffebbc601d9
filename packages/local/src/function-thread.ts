import { parentPort, workerData } from "node:worker_threads";
import type { FunctionId } from "@paysync/aws/resources";
import { lambdaContext, loadHandler } from "./handlers.js";

/** One function's handler, in a thread of its own, answering invocations from the runtime. */
const functionId = (workerData as { functionId: FunctionId }).functionId;
const handler = loadHandler(functionId);
// Tells the runtime when this instance is initialised (imports done, clients made), as Lambda's
// init phase ends before a provisioned instance takes its first request.
handler.then(
  () => parentPort?.postMessage({ ready: true }),
  (error: unknown) => parentPort?.postMessage({ ready: false, message: error instanceof Error ? error.message : String(error) }),
);

parentPort?.on("message", (message: { id: number; event: unknown }) => {
  handler
    .then((fn) => fn(message.event, lambdaContext(functionId)))
    .then(
      (result) => parentPort?.postMessage({ id: message.id, result }),
      (error: unknown) => parentPort?.postMessage({
        id: message.id,
        error: { name: error instanceof Error ? error.name : "Error", message: error instanceof Error ? error.message : String(error) },
      }),
    );
});
