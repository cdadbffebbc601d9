import { JOBS, type JobId } from "@paysync/aws/resources";
import { readRuntimeState } from "./runtime.js";
import { handlerEnvironment } from "./environment.js";
import { loadSettings } from "./settings.js";

/**
 * `npm run job -- <name> [--at <ISO time>]`: runs one scheduled job now against the running
 * local service. `--at` sets the scheduled event's time, which the jobs take as their clock
 * (e.g. the daily reports cover the day before it).
 */
const names = Object.keys(JOBS) as JobId[];
const [wanted, flag, atText] = process.argv.slice(2);
const jobId = names.find((name) => name.toLowerCase() === wanted?.replace(/-/g, "").toLowerCase());
const at = flag === "--at" && atText !== undefined ? new Date(atText) : flag === undefined ? new Date() : undefined;
if (!jobId || at === undefined || Number.isNaN(at.getTime())) {
  console.error(`usage: npm run job -- <name> [--at <ISO time>]   (one of: ${names.join(", ")})`);
  process.exit(2);
}
const settings = loadSettings();
const state = readRuntimeState(settings.dataDir);
if (!state) {
  console.error(`paysync: no running service uses ${settings.dataDir}; start it first with npm start`);
  process.exit(1);
}
Object.assign(process.env, handlerEnvironment(settings, state.endpoints, state.resources));
const { runJob } = await import("./scheduler.js");
const { inProcessHost } = await import("./function-host.js");
const result = await runJob(inProcessHost(), jobId, at);
console.log(JSON.stringify({ job: jobId, result }, null, 2));
