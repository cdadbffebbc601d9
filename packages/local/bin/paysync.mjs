#!/usr/bin/env node
// `npx paysync …`: the simulator CLI. The workspace ships TypeScript without a build step, so
// the launcher registers tsx's ESM loader and imports the TS entry (src/simulator/cli.ts).
import { register } from "tsx/esm/api";

register();
await import("../src/simulator/cli.ts");
