import { JOBS, type JobId } from "@paysync/aws/resources";
import { readRuntimeState } from "./runtime.js";
import { handlerEnvironment } from "./environment.js";
import { loadSettings } from "./settings.js";

/** `npm run job -- <name>`: runs one scheduled job now against the running local service. */
const names = Object.keys(JOBS) as JobId[];
const wanted = process.argv[2];
const jobId = names.find((name) => name.toLowerCase() === wanted?.replace(/-/g, "").toLowerCase());
if (!jobId) {
  console.error(`usage: npm run job -- <name>   (one of: ${names.join(", ")})`);
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
const result = await runJob(jobId);
console.log(JSON.stringify({ job: jobId, result }, null, 2));
