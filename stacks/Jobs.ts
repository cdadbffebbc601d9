import { Cron, use, type Function, type StackContext } from "sst/constructs";
import { FUNCTIONS, JOBS, type FunctionId, type JobId } from "@paysync/aws/resources";
import { createFunction } from "./grants.js";
import { Queues } from "./Queues.js";
import { Realtime } from "./Realtime.js";
import { Storage } from "./Storage.js";

/** The scheduled maintenance jobs of JOBS (EventBridge rules, UTC), one function each. */
export function Jobs({ stack }: StackContext) {
  const storage = use(Storage);
  const { lanes } = use(Queues);
  const { realtime } = use(Realtime);

  const jobs = {} as Record<JobId, Function>;
  for (const job of Object.values(JOBS)) {
    const functionId: FunctionId = job.id;
    if (FUNCTIONS[functionId].handler !== job.handler) {
      throw new Error(`Job ${job.id}: handler ${job.handler} differs from FUNCTIONS.${functionId}`);
    }
    const fn = createFunction(stack, functionId, { ...storage, lanes, realtime });
    new Cron(stack, `${job.id}Schedule`, {
      schedule: job.schedule,
      job: { function: fn },
      cdk: { rule: { description: `paysync ${job.id}: ${job.description}` } },
    });
    jobs[job.id] = fn;
  }
  return { jobs };
}
