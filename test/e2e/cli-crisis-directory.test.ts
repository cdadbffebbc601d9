import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUNDLED_DIRECTORY_DATA } from "@paysync/core/crisis/directory-data";
import { useRuntime } from "../helpers/runtime.js";

/** `npx paysync crisis-directory show | set FILE` against the suite's runtime (docs/CRISIS.md). */
const rt = useRuntime();
const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "paysync-cli-directory-"));
const file = (name: string, body: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof body === "string" ? body : JSON.stringify(body, null, 2));
  return path;
};

function paysync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      join(ROOT, "node_modules/.bin/node"), [join(ROOT, "packages/local/bin/paysync.mjs"), ...args],
      { cwd: ROOT, env: { ...process.env, PAYSYNC_DATA_DIR: rt.dataDir }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

afterAll(async () => {
  // Leave the usual directory for the other files (versions only grow).
  expect((await paysync(["crisis-directory", "set", file("bundled.json", BUNDLED_DIRECTORY_DATA)])).code).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

describe("npx paysync crisis-directory", () => {
  it("set FILE stores the file as the next version, and show prints it", async () => {
    // Prepare
    const before = JSON.parse((await paysync(["crisis-directory", "show", "--json"])).stdout) as { version: number };
    const updated = { ...BUNDLED_DIRECTORY_DATA, regions: { ...BUNDLED_DIRECTORY_DATA.regions, NZ: [{ id: "nz-1737", name: "Need to talk? 1737", call: "1737", text: { number: "1737" }, languages: ["en"], hours: "24 hours, 7 days", sourceUrl: "https://1737.org.nz/", lastChecked: "2026-12-02" }] } };

    // Act
    const set = await paysync(["crisis-directory", "set", file("nz.json", updated)]);
    const shown = await paysync(["crisis-directory", "show", "--json"]);

    // Assess
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`crisis directory version ${before.version + 1}`);
    expect(set.stdout).toMatch(/NZ: Need to talk\? 1737 — call 1737 — text 1737/);
    expect(JSON.parse(shown.stdout)).toMatchObject({ version: before.version + 1, directory: { regions: { NZ: [{ id: "nz-1737" }] } } });
  });

  it("set refuses a file the schema does not take, names the issue, and stores nothing", async () => {
    // Prepare
    const before = (await paysync(["crisis-directory", "show", "--json"])).stdout;
    const broken = { ...BUNDLED_DIRECTORY_DATA, regions: { GB: BUNDLED_DIRECTORY_DATA.regions.GB } };

    // Act
    const run = await paysync(["crisis-directory", "set", file("broken.json", broken)]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("HTTP 400");
    expect(run.stderr).toContain("regions.US");
    expect((await paysync(["crisis-directory", "show", "--json"])).stdout).toBe(before);
  });

  it("set without a file is a usage error", async () => {
    // Act
    const run = await paysync(["crisis-directory", "set"]);

    // Assess
    expect(run.code).toBe(2);
  });
});
