import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { FUNCTIONS, type FunctionId } from "@paysync/aws/resources";

const ROOT = resolve(import.meta.dirname, "../..");

export interface BundleFigure {
  functionId: FunctionId;
  bytes: number;
  coldImportMs: number[];
}

/** The environment a cold Lambda sees: bindings present, nothing fetched from SSM. */
const COLD_ENV = {
  SST_APP: "paysync", SST_STAGE: "bench", SST_REGION: "us-east-1", AWS_REGION: "us-east-1",
  SST_Table_tableName_Sync: "t", SST_Table_tableName_Payments: "t", SST_Table_tableName_Audit: "t",
  SST_Secret_value_PSEUDONYM_SECRET: "bench-secret-0123456789", SST_Secret_value_STRIPE_WEBHOOK_SECRET: "whsec_x",
  SST_Parameter_value_KMS_KEY_ARN: "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000",
  SST_Parameter_value_PRICE_TIERS: "{}", POWERTOOLS_METRICS_DISABLED: "true",
};

/**
 * Bundles each function as SST does (esbuild, ESM, minified, everything bundled) and times a
 * cold import of the bundle in a fresh Node process, `repeats` times.
 */
export async function measureBundles(ids: FunctionId[], repeats: number): Promise<BundleFigure[]> {
  const out = mkdtempSync(join(tmpdir(), "paysync-bundles-"));
  const node = join(ROOT, "node_modules/.bin/node");
  try {
    const figures: BundleFigure[] = [];
    for (const id of ids) {
      const spec = FUNCTIONS[id].handler;
      const entry = join(ROOT, `${spec.slice(0, spec.lastIndexOf("."))}.ts`);
      const outfile = join(out, `${id}.mjs`);
      await build({
        entryPoints: [entry], outfile, bundle: true, minify: true, platform: "node", format: "esm", target: "node18",
        banner: { js: "import { createRequire as topLevelCreateRequire } from 'module'; const require = topLevelCreateRequire(import.meta.url);" },
        logLevel: "silent",
      });
      const coldImportMs: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const script = `const t=performance.now();await import(${JSON.stringify(outfile)});console.log(performance.now()-t)`;
        const result = spawnSync(node, ["--input-type=module", "-e", script], { env: { ...process.env, ...COLD_ENV }, encoding: "utf8" });
        if (result.status !== 0) throw new Error(`${id} bundle failed to import: ${result.stderr.slice(-500)}`);
        coldImportMs.push(Number(result.stdout.trim()));
      }
      figures.push({ functionId: id, bytes: statSync(outfile).size, coldImportMs });
    }
    return figures;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
