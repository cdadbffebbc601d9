import type { SSTConfig } from "sst";
import { METRICS_NAMESPACE, SECRETS } from "@paysync/aws/resources";
import { Alarms } from "./stacks/Alarms.js";
import { Api } from "./stacks/Api.js";
import { Jobs } from "./stacks/Jobs.js";
import { Queues } from "./stacks/Queues.js";
import { Realtime } from "./stacks/Realtime.js";
import { isEphemeralStage, requireStageSecrets } from "./stacks/stage.js";
import { describeStageSecrets } from "./stacks/stage-secrets.js";
import { Storage } from "./stacks/Storage.js";

/**
 * The paysync SST v2 app. `npx sst deploy --stage <name>` deploys it with AWS credentials;
 * CI synthesizes it offline (test/infra).
 */
export default {
  config() {
    return { name: "paysync", region: "us-east-1" };
  },
  async stacks(app) {
    app.setDefaultRemovalPolicy(isEphemeralStage(app.stage) ? "destroy" : "retain");
    app.setDefaultFunctionProps({
      runtime: "nodejs22.x",
      architecture: "arm_64",
      // Source maps stay in the bundle: NODE_OPTIONS turns them on for stack traces.
      nodejs: { format: "esm", sourcemap: true },
      environment: {
        POWERTOOLS_SERVICE_NAME: "paysync",
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOGGER_LOG_EVENT: "false",
        NODE_OPTIONS: "--enable-source-maps",
      },
    });
    // A new stage first gets its keys and tables alone, so that its secrets can be written
    // under its secrets key (`npm run secrets`); then the whole app, which requires them.
    if (process.env.PAYSYNC_BOOTSTRAP_STAGE === "1") {
      app.stack(Storage);
      return;
    }
    // Offline synthesis (SST's test mode: CI, test/infra) cannot ask SSM; every deploy does.
    if (app.mode !== "remove" && !app.isRunningSSTTest()) {
      requireStageSecrets(app, SECRETS, await describeStageSecrets(app));
    }
    app.stack(Storage).stack(Realtime).stack(Queues).stack(Api).stack(Jobs).stack(Alarms);
  },
} satisfies SSTConfig;
