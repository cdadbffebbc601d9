import { StartupError } from "./emulators.js";
import { startRuntime } from "./runtime.js";
import { loadSettings, SettingsError } from "./settings.js";

/** `npm start`: paysync on this machine, on embedded emulators, until Ctrl-C. */
async function main(): Promise<void> {
  const started = Date.now();
  const settings = loadSettings();
  console.log(`paysync: starting (data in ${settings.dataDir}) …`);
  // Tests drive jobs themselves with an injected clock; everyone else gets the schedule.
  const schedule = process.env.PAYSYNC_SCHEDULER !== "off";
  const runtime = await startRuntime(settings, { schedule, log: (line) => console.log(`paysync: ${line}`) });
  console.log(
    [
      `paysync is running at ${runtime.baseUrl} (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  health:          curl ${runtime.baseUrl}/health`,
      `  dev token:       npm run token -- <userId>`,
      `  webhook secret:  ${settings.secrets.stripeWebhookSecret}`,
      `  ops dashboard:   ${runtime.baseUrl}/ops?token=${settings.secrets.adminToken}`,
      `  simulator:       npx paysync demo   (then watch the dashboard)`,
      `  webhook url:     ${runtime.baseUrl}/webhooks/stripe`,
      `  run a job now:   npm run job -- <name>`,
      `  stop:            Ctrl-C (state is kept in ${settings.dataDir})`,
    ].join("\n"),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`paysync: ${signal} received, stopping …`);
    runtime.stop().then(
      () => { console.log("paysync: stopped"); process.exit(0); },
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  if (error instanceof StartupError || error instanceof SettingsError) {
    console.error(`paysync: ${error.message}`);
  } else {
    console.error(`paysync: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
