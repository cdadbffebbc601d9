import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { signDevToken } from "@paysync/local/jwt";
import type { LocalSecrets } from "@paysync/local/settings";
import { startRuntimeProcess, stopRuntimeProcess, TEST_OUTPUT_DIR } from "../helpers/global-setup.js";
import { useRuntime } from "../helpers/runtime.js";

const ROOT = resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(join(tmpdir(), "paysync-restart-"));
const logFile = join(TEST_OUTPUT_DIR, "restart.log");

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function asUser(baseUrl: string, userId: string) {
  const secrets = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as LocalSecrets;
  const token = await signDevToken(secrets.jwtSecret, userId);
  return (method: string, path: string, body?: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
}

describe("npm start", () => {
  it("keeps data written before a Ctrl-C across the next start, beside another running instance", async () => {
    // Prepare: a second instance with its own data dir, next to the suite's shared one
    rmSync(logFile, { force: true });
    const first = await startRuntimeProcess(dataDir, logFile, {}, { ownProcessGroup: true });
    const call = await asUser(first.baseUrl, "restart-user");
    expect((await fetch(`${first.baseUrl}/health`)).status).toBe(200);
    expect((await call("POST", "/v1/devices", { deviceId: "restart-phone", platform: "android", primary: true })).status).toBe(201);

    // Act: Ctrl-C as a terminal sends it, to the runtime and its emulators at once
    await stopRuntimeProcess(first.child, { group: true });
    const stoppingOutput = readFileSync(logFile, "utf8");
    const second = await startRuntimeProcess(dataDir, logFile);
    try {
      const again = await asUser(second.baseUrl, "restart-user");
      const response = await again("GET", "/v1/devices");

      // Assess
      expect(response.status).toBe(200);
      const body = (await response.json()) as { devices: { deviceId: string; primary: boolean }[] };
      expect(body.devices.map((d) => [d.deviceId, d.primary])).toEqual([["restart-phone", true]]);
      expect(second.baseUrl).not.toBe(useRuntime().baseUrl);
      expect(stoppingOutput).toContain("paysync: stopped");
      expect(stoppingOutput).not.toMatch(/exited unexpectedly|did not restart/);
    } finally {
      await stopRuntimeProcess(second.child);
    }
  });

  it.each([
    ["a busy port", () => ({ PORT: new URL(useRuntime().baseUrl).port }), /^paysync: Port \d+ is already in use; set PORT/],
    ["an invalid PORT", () => ({ PORT: "not-a-port" }), /^paysync: Invalid setting PORT/],
    ["a malformed price map", () => ({ PAYSYNC_PRICE_TIERS: "{oops" }), /^paysync: Invalid setting PAYSYNC_PRICE_TIERS/],
  ])("explains %s in one line instead of a stack trace, before starting any emulator", (_case, env, expected) => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), "paysync-bad-"));

    // Act
    const result = spawnSync(join(ROOT, "node_modules/.bin/node"), [join(ROOT, "node_modules/tsx/dist/cli.mjs"), "--disable-warning=ExperimentalWarning", "packages/local/src/main.ts"], {
      cwd: ROOT,
      env: { ...process.env, PAYSYNC_DATA_DIR: dataDir, PAYSYNC_SCHEDULER: "off", ...env() },
      encoding: "utf8",
      timeout: 60_000,
    });

    // Assess: nothing was started (no emulator state), so the answer comes at once
    expect(result.status).toBe(1);
    const errorLines = result.stderr.trim().split("\n");
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(expected);
    expect(readdirSync(dataDir).filter((entry) => ["dynamodb", "sqs", "kms.json"].includes(entry))).toEqual([]);
  });
});
