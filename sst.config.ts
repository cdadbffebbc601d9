import type { SSTConfig } from "sst";
import { METRICS_NAMESPACE } from "@paysync/aws/resources";
import { Alarms } from "./stacks/Alarms.js";
import { Api } from "./stacks/Api.js";
import { Jobs } from "./stacks/Jobs.js";
import { Queues } from "./stacks/Queues.js";
import { Realtime } from "./stacks/Realtime.js";
import { isEphemeralStage } from "./stacks/stage.js";
import { Storage } from "./stacks/Storage.js";

/**
 * The paysync SST v2 app. `npx sst deploy --stage <name>` deploys it with AWS credentials;
 * CI synthesizes it offline (test/infra).
 */
export default {
  config() {
    return { name: "paysync", region: "us-east-1" };
  },
  stacks(app) {
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
    app.stack(Storage).stack(Realtime).stack(Queues).stack(Api).stack(Jobs).stack(Alarms);
  },
} satisfies SSTConfig;
