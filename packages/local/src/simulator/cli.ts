import { parseArgs } from "node:util";
import * as commands from "./commands.js";
import { demo } from "./demo.js";
import { crisisDirectory } from "./directory-commands.js";
import { CliError, findService, ServiceClient } from "./service.js";
import { SimulatorStore } from "./state.js";
import { stripe } from "./stripe-commands.js";

/**
 * `npx paysync <command>`: plays the outside world — devices and Stripe — against a running
 * paysync (found through `<data dir>/runtime.json`, or `--url`). Human-readable output by
 * default, `--json` for scripts; exit 0 on success, 1 when the service refuses or fails, 2 on
 * a usage error.
 */
export const USAGE = `usage: npx paysync <command> [options]

devices register [<deviceId>…] [--platform ios|android|web] [--primary]
devices list | devices remove <deviceId>
push       [--type check_in] [--entity <id>] [--payload <json>] [--base-version <n>] [--delete]
pull       [--cursor <c>] [--limit <n>] [--reset]     (remembers each device's cursor)
assessment [--instrument PHQ-9|GAD-7] [--answers 0,1,2,…]
crisis     activate [--level moderate|high|imminent] [--source button|assessment|clinician]
crisis     resources | crisis resolve
stripe     subscribe [--tier basic|premium] [--trial] | upgrade [--tier premium] | fail | recover | cancel   [--no-wait]
entitlements                                            the user's tier, status and features
ops                                                     prints the dashboard URL (with the admin token)
crisis-directory show | set FILE                        the crisis directory: current version, or store a new one (ops token)
demo                                                    the walk-through: start here

common: --user <id> (default demo-user)  --device <id> (default: the user's registered device, else phone-<hash of user>)
        --url <base URL>  --json  --help  (npx paysync <command> --help: that command only)
The service is found through $PAYSYNC_DATA_DIR/runtime.json (default .paysync/), written by npm start.`;

const OPTIONS = {
  user: { type: "string" }, device: { type: "string" }, url: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" },
  platform: { type: "string" }, primary: { type: "boolean" },
  type: { type: "string" }, entity: { type: "string" }, payload: { type: "string" }, "base-version": { type: "string" }, delete: { type: "boolean" },
  cursor: { type: "string" }, limit: { type: "string" }, reset: { type: "boolean" },
  instrument: { type: "string" }, answers: { type: "string" },
  level: { type: "string" }, source: { type: "string" },
  tier: { type: "string" }, trial: { type: "boolean" }, "no-wait": { type: "boolean" },
} as const;

type Runner = (ctx: commands.Context, sub: string | undefined) => Promise<commands.Output> | commands.Output;

const COMMANDS: Record<string, Runner> = {
  devices: (ctx, sub) => {
    if (sub === "register") return commands.devicesRegister(ctx);
    if (sub === "list") return commands.devicesList(ctx);
    if (sub === "remove") return commands.devicesRemove(ctx);
    throw new CliError("usage: paysync devices register|list|remove", 2);
  },
  push: (ctx) => commands.push(ctx),
  pull: (ctx) => commands.pull(ctx),
  assessment: (ctx) => commands.assessment(ctx),
  crisis: (ctx, sub) => commands.crisis(ctx, sub),
  stripe: (ctx, sub) => stripe(ctx, sub),
  entitlements: (ctx) => commands.entitlements(ctx),
  ops: (ctx) => commands.ops(ctx),
  "crisis-directory": (ctx, sub) => crisisDirectory(ctx, sub),
  demo: (ctx) => demo(ctx),
};
/** One command's lines of the usage, with the common options. */
export function commandUsage(name: string): string {
  const lines = USAGE.split("\n");
  const own = lines.filter((line) => line.split(/\s+/)[0] === name);
  const common = lines.slice(lines.findIndex((line) => line.startsWith("common:")));
  return ["usage: npx paysync " + name + " …", "", ...own, "", ...common].join("\n");
}

/** Commands that act as one device; without --device they look up the user's own. */
const AS_DEVICE = new Set(["devices", "push", "pull", "assessment", "crisis"]);

/** Commands whose second word is a sub-command rather than an argument. */
const WITH_SUBCOMMAND = new Set(["devices", "crisis", "stripe", "crisis-directory"]);

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`paysync: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [name, ...rest] = positionals;
  if (values.help && name !== undefined && COMMANDS[name]) {
    console.log(commandUsage(name));
    return 0;
  }
  if (values.help || name === undefined || name === "help") {
    console.log(USAGE);
    return name === undefined && !values.help ? 2 : 0;
  }
  const run = COMMANDS[name];
  if (!run) {
    console.error(`paysync: unknown command ${name}\n\n${USAGE}`);
    return 2;
  }
  const sub = WITH_SUBCOMMAND.has(name) ? rest.shift() : undefined;
  try {
    const target = findService(values.url);
    const client = new ServiceClient(target);
    const user = values.user ?? "demo-user";
    const ctx: commands.Context = {
      client,
      store: new SimulatorStore(target.dataDir),
      user,
      device: values.device ?? (AS_DEVICE.has(name) ? await commands.defaultDevice(client, user) : commands.deviceIdFor(user, "phone")),
      options: values,
      positionals: rest,
    };
    const output = await run(ctx, sub);
    console.log(values.json ? JSON.stringify(output.data, null, 2) : output.lines.join("\n"));
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`paysync: ${error.message}${error.exitCode === 2 ? `\n\n${USAGE}` : ""}`);
      return error.exitCode;
    }
    console.error(`paysync: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    return 1;
  }
}

// Exit now: idle keep-alive sockets must not hold a finished command open.
process.exit(await main(process.argv.slice(2)));
