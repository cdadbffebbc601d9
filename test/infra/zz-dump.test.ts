import { writeFileSync } from "node:fs";
import { it } from "vitest";
import { synthesize } from "./synth.js";
it("dumps", async () => {
  const s = await synthesize();
  for (const [name, t] of s.byStackName) writeFileSync(`/tmp/tpl-${name}.json`, JSON.stringify(t.toJSON(), null, 1));
  console.log("synthMs", s.synthMs);
}, 300_000);
