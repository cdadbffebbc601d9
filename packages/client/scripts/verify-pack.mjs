// Proves the published artifact works on its own: packs @paysync/client (prepack builds it),
// installs the tarball into an empty directory outside the repository, then (1) imports both
// entry points from Node and runs a write → push → crisis-kit round against a stub server, and
// (2) typechecks a TypeScript consumer against the shipped declarations, without Node's types.
// Exits non-zero on any failure. Run: npm run verify-pack -w @paysync/client
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(root, "..", "..");
const work = mkdtempSync(join(tmpdir(), "paysync-client-pack-"));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });

try {
  run(npm, ["pack", "--pack-destination", work, "--silent"], root);
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error("npm pack produced no tarball");
  const listing = run("tar", ["-tzf", join(work, tarball)], work).trim().split("\n");
  const stray = listing.filter((f) => !/^package\/(dist\/|package\.json$|README\.md$)/.test(f));
  if (stray.length > 0) throw new Error(`unexpected files in the tarball: ${stray.join(", ")}`);

  const app = join(work, "app");
  run("mkdir", ["-p", app], work);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  run(npm, ["install", join(work, tarball), "--no-audit", "--no-fund", "--prefer-offline", "--silent"], app);

  writeFileSync(join(app, "smoke.mjs"), `
import { createPaysyncClient, createMemoryStore, PROTOCOL_VERSION } from "@paysync/client";
import { openFileStore } from "@paysync/client/node";
const seen = [];
const json = (status, body) => ({ status, headers: { get: () => null }, text: async () => JSON.stringify(body) });
const fetch = async (url, init) => {
  const path = new URL(url).pathname;
  seen.push(init.method + " " + path);
  if (path === "/v1/devices") return json(201, {});
  if (path === "/v1/sync/push") {
    const { ops } = JSON.parse(init.body);
    return json(200, { results: ops.map((op) => ({ opId: op.opId, status: "applied", priority: 10, lane: "crisis" })) });
  }
  if (path === "/v1/sync/pull") return json(200, { changes: [], cursor: "f-1", hasMore: false, minIntervalMs: 60000, phase: "feed" });
  return json(503, { error: { code: "service_unavailable", message: "stub" } });
};
const store = await openFileStore(process.argv[2]);
const client = createPaysyncClient({ baseUrl: "http://127.0.0.1:9", getToken: () => "t", deviceId: "smoke-1", platform: "web", store, fetch, WebSocket: false });
await client.start();
await client.write("safety_plan", "current", { warningSigns: ["x"] });
await client.syncNow();
const kit = client.crisisKit();
await client.stop();
if (client.pending().length !== 0) throw new Error("op not pushed");
if (kit.resources.hotline?.call !== "988") throw new Error("no hotline in the kit");
if (!seen.includes("POST /v1/sync/push")) throw new Error("no push");
if (typeof createMemoryStore !== "function" || PROTOCOL_VERSION !== 1) throw new Error("exports missing");
console.log("smoke ok: " + seen.length + " requests");
`);
  console.log(run(process.execPath, ["smoke.mjs", join(work, "store")], app).trim());

  writeFileSync(join(app, "consumer.ts"), `
import { createPaysyncClient, createMemoryStore, type SyncStatus, type CrisisKit, type Entitlements, type ClientStore } from "@paysync/client";
const store: ClientStore = createMemoryStore();
const client = createPaysyncClient({ baseUrl: "https://api.example.com", getToken: async () => "jwt", deviceId: "d-1", platform: "ios", store });
const off = client.on("status", (s: SyncStatus) => s.priorities.map((p) => p.pending));
const kit: CrisisKit = client.crisisKit();
const e: Entitlements = client.entitlements();
const crisis: true = e.crisisAccess;
void client.write("mood_entry", "m-1", { mood: 4 });
// @ts-expect-error the payload must be JSON
void client.write("mood_entry", "m-1", { when: new Date() });
export { off, kit, crisis };
`);
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, lib: ["ES2022", "DOM"], types: [], skipLibCheck: false },
    files: ["consumer.ts"],
  }));
  run(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", app], app);
  console.log(`types ok: ${tarball} installs, imports and typechecks outside the repository`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
