// Builds @paysync/client into dist/: ESM bundles (the parts of @paysync/core it uses are
// bundled in, zod stays a dependency) and type declarations whose imports of @paysync/core are
// rewritten to the declarations shipped beside them, so the tarball needs no private package.
// It also typechecks the browser entry without Node's types: the core must run anywhere.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const tsc = join(root, "..", "..", "node_modules", "typescript", "bin", "tsc");

rmSync(dist, { recursive: true, force: true });

execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.portable.json")], { stdio: "inherit" });

await build({
  entryPoints: { index: join(root, "src/index.ts"), node: join(root, "src/node.ts") },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["zod", "node:*"],
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
  tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
});

execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });

// @paysync/core/<subpath> → the emitted declaration of the file its exports map points to.
const core = JSON.parse(readFileSync(join(root, "..", "core", "package.json"), "utf8"));
const coreTypes = join(dist, "types", "core");
function coreTarget(subpath) {
  const exact = core.exports[`./${subpath}`];
  const file = exact ?? core.exports["./*"].replace("*", subpath);
  return join(coreTypes, file.replace(/\.ts$/, ".js"));
}
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
for (const file of walk(join(dist, "types")).filter((f) => f.endsWith(".d.ts"))) {
  const text = readFileSync(file, "utf8");
  const rewritten = text.replace(/(["'])@paysync\/core\/([^"']+)\1/g, (_match, quote, subpath) => {
    let target = relative(dirname(file), coreTarget(subpath)).split("\\").join("/");
    if (!target.startsWith(".")) target = `./${target}`;
    return `${quote}${target}${quote}`;
  });
  if (rewritten !== text) writeFileSync(file, rewritten);
  if (/(from\s*|import\()["']@paysync\/(core|aws|local)/.test(rewritten)) throw new Error(`${file} still names a private package`);
}

for (const file of walk(dist).filter((f) => f.endsWith(".js") && !f.endsWith("node.js"))) {
  if (/from\s*["']node:/.test(readFileSync(file, "utf8"))) throw new Error(`${relative(root, file)} imports a Node module`);
}
console.log(`built ${relative(process.cwd(), dist) || "dist"}`);
