import { parseArgs } from "node:util";
import { readRuntimeState } from "./runtime.js";
import { handlerEnvironment } from "./environment.js";
import { loadSettings } from "./settings.js";

/**
 * `npm run report -- compliance [--from ISO] [--to ISO] [--json]`: verifies the audit hash
 * chains of the running local service and prints crisis latency percentiles, SLO breaches and
 * entries by action. Exits 3 when a chain is broken, so scripts can act on it.
 */
const USAGE = "usage: npm run report -- compliance [--from <ISO time>] [--to <ISO time>] [--json]";

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

function time(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) fail(`paysync: --${name} is not an ISO 8601 time: ${value}\n${USAGE}`);
  return date;
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { from: { type: "string" }, to: { type: "string" }, json: { type: "boolean", default: false } },
  });
}
try {
  parsed = parse();
} catch (error) {
  fail(`paysync: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
}
if (parsed.positionals[0] !== "compliance" || parsed.positionals.length !== 1) fail(USAGE);
const from = time("from", parsed.values.from);
const to = time("to", parsed.values.to);
if (from && to && from >= to) fail(`paysync: --from must be before --to\n${USAGE}`);

const settings = loadSettings();
const state = readRuntimeState(settings.dataDir);
if (!state) fail(`paysync: no running service uses ${settings.dataDir}; start it first with npm start`, 1);
Object.assign(process.env, handlerEnvironment(settings, state.endpoints, state.resources));

const { buildComplianceReport } = await import("@paysync/aws/audit/compliance");
const { wiring } = await import("@paysync/aws/wiring");
const { formatComplianceReport } = await import("@paysync/core/audit/report");
const report = await buildComplianceReport(wiring.audit(), { ...(from ? { from } : {}), ...(to ? { to } : {}) });
console.log(parsed.values.json ? JSON.stringify(report, null, 2) : formatComplianceReport(report));
process.exit(report.chainIntact ? 0 : 3);
