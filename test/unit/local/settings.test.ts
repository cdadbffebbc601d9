import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings, SettingsError } from "@paysync/local/settings";

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "paysync-settings-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("local settings: the pseudonym secret", () => {
  it("is generated as 32 random bytes and kept across restarts", () => {
    // Prepare
    const dir = dataDir();

    // Act
    const first = loadSettings({ PAYSYNC_DATA_DIR: dir }).secrets.pseudonymSecret;
    const second = loadSettings({ PAYSYNC_DATA_DIR: dir }).secrets.pseudonymSecret;

    // Assess
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toBe(first);
    expect((JSON.parse(readFileSync(join(dir, "secrets.json"), "utf8")) as { pseudonymSecret: string }).pseudonymSecret).toBe(first);
  });

  it("refuses a stored secret shorter than 32 bytes instead of replacing it", () => {
    // Prepare
    const dir = dataDir();
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ pseudonymSecret: "a-16-char-secret" }));

    // Act
    const load = () => loadSettings({ PAYSYNC_DATA_DIR: dir });

    // Assess
    expect(load).toThrow(SettingsError);
    expect(load).toThrow(/32 random bytes/);
    expect((JSON.parse(readFileSync(join(dir, "secrets.json"), "utf8")) as { pseudonymSecret: string }).pseudonymSecret).toBe("a-16-char-secret");
  });
});
