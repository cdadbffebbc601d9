import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { recordPii } from "../helpers/pii-fixtures.js";
import { useRuntime } from "../helpers/runtime.js";

const rt = useRuntime();
const ROOT = resolve(import.meta.dirname, "../..");
const user = `cli-user-${Date.now().toString(36)}`;
const demoUser = `cli-demo-${Date.now().toString(36)}`;
// The CLI signs its own tokens; the suite-wide PII check must still look for these ids.
recordPii(user);
recordPii(demoUser);
const tablet = `tablet-${randomBytes(6).toString("hex")}`;
const emptyDataDir = mkdtempSync(join(tmpdir(), "paysync-cli-none-"));
afterAll(() => rmSync(emptyDataDir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npx paysync …` as npm links it: the bin's launcher, on the project's Node, against the suite's runtime. */
function paysync(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      join(ROOT, "node_modules/.bin/node"),
      [join(ROOT, "packages/local/bin/paysync.mjs"), ...args],
      { cwd: ROOT, env: { ...process.env, PAYSYNC_DATA_DIR: rt.dataDir, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const run = await paysync(args, env);
  expect(run.code, `paysync ${args.join(" ")}\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run;
}

const asUser = (...args: string[]) => [...args, "--user", user];

describe("npx paysync against the running service", () => {
  it("registers the user's phone (the default device) and a tablet, and lists them", async () => {
    // Act
    const phone = await ok(asUser("devices", "register"));
    const second = await ok(asUser("devices", "register", tablet, "--platform", "android"));
    const listed = await ok(asUser("devices", "list", "--json"));

    // Assess
    expect(phone.stdout).toMatch(/^registered: phone-[0-9a-f]{12} \(ios\)/);
    expect(second.stdout).toContain(`registered: ${tablet} (android)`);
    const devices = (JSON.parse(listed.stdout) as { devices: Array<{ deviceId: string }> }).devices.map((d) => d.deviceId);
    expect(devices).toHaveLength(2);
    expect(devices).toContain(tablet);
  });

  it("subscribes through signed Stripe webhooks and waits until the tier is applied", async () => {
    // Act
    const run = await ok(asUser("stripe", "subscribe", "--tier", "premium"));

    // Assess
    expect(run.stdout).toMatch(/sent checkout\.session\.completed \(evt_sim\w+, signed\) → 200/);
    expect(run.stdout).toMatch(/sent customer\.subscription\.created \(evt_sim\w+, signed\) → 200/);
    expect(run.stdout).toContain(`user ${user}: tier premium (active)`);
  });

  it("pushes a mood entry from the phone that the tablet then pulls", async () => {
    // Prepare
    const entity = `mood-${randomBytes(4).toString("hex")}`;

    // Act
    const pushed = await ok(asUser("push", "--type", "mood_entry", "--entity", entity, "--payload", '{"mood":4}', "--json"));
    const received = async () => {
      const run = await paysync(asUser("pull", "--device", tablet, "--json"));
      if (run.code !== 0) return false; // 429 until premium's 1 s pull interval has passed
      return (JSON.parse(run.stdout) as { changes: Array<{ entityId: string }> }).changes.some((c) => c.entityId === entity);
    };

    // Assess
    expect(JSON.parse(pushed.stdout).result).toMatchObject({ status: expect.stringMatching(/^(queued|applied)$/), priority: 6, lane: "standard" });
    await expect.poll(received, { timeout: 20_000, interval: 1_100 }).toBe(true);
  });

  it("runs a PHQ-9 over the crisis threshold at crisis priority", async () => {
    // Act
    const run = await ok(asUser("assessment", "--instrument", "PHQ-9", "--answers", "2,2,2,2,2,2,2,2,1"));

    // Assess
    expect(run.stdout).toContain("PHQ-9 total 17, item 9: 1 — over the crisis threshold");
    expect(run.stdout).toMatch(/applied — priority 9, lane crisis/);
  });

  it("activates crisis mode, reads the resources and resolves it", async () => {
    // Act
    const activated = await ok(asUser("crisis", "activate", "--level", "imminent"));
    const resources = await ok(asUser("crisis", "resources", "--device", tablet));
    const resolved = await ok(asUser("crisis", "resolve"));

    // Assess
    expect(activated.stdout).toContain("crisis mode: ACTIVE (imminent)");
    expect(resources.stdout).toContain("call 988");
    expect(resolved.stdout).toContain("crisis mode: resolved");
  });

  it("falls back to the built-in Stripe shapes when the shared fixtures are missing", async () => {
    // Act
    const failed = await ok(asUser("stripe", "fail", "--json"), { PAYSYNC_STRIPE_FIXTURES: "builtin" });
    const recovered = await ok(asUser("stripe", "recover"), { PAYSYNC_STRIPE_FIXTURES: join(emptyDataDir, "no-such-dir") });

    // Assess
    expect(JSON.parse(failed.stdout)).toMatchObject({ fixtures: "builtin", tier: "grace_period", status: "past_due" });
    expect(recovered.stdout).toContain(`user ${user}: tier premium (active)`);
  });

  it("walks a new user through the demo and ends at the dashboard URL", async () => {
    // Act
    const run = await ok(["demo", "--user", demoUser]);

    // Assess
    expect(run.stdout).toContain("[10/10] The crisis is resolved");
    expect(run.stdout).toContain(`${rt.baseUrl}/ops?token=${rt.secrets.adminToken}`);
  });

  it("follows the README: a phone registered by hand, then step 4's commands in order", async () => {
    // Prepare: the README's curl registers the user's phone under an id the CLI did not pick
    const readmeUser = `cli-readme-${Date.now().toString(36)}`;
    const phone = `handset-${randomBytes(6).toString("hex")}`;
    const registered = await rt.request("POST", "/v1/devices", { token: await rt.token(readmeUser), body: { deviceId: phone, platform: "ios" } });
    expect(registered.status).toBe(201);
    const as = (...args: string[]) => [...args, "--user", readmeUser];

    // Act
    const activated = await ok(as("crisis", "activate", "--level", "imminent", "--json"));
    const subscribed = await ok(as("stripe", "subscribe", "--tier", "basic"));
    const failed = await ok(as("stripe", "fail"));
    const entitlements = await ok(as("entitlements"));

    // Assess
    expect(JSON.parse(activated.stdout).crisisMode).toMatchObject({ active: true, level: "imminent" });
    expect(subscribed.stdout).toContain(`user ${readmeUser}: tier basic (active)`);
    expect(failed.stdout).toContain("grace_period");
    expect(entitlements.stdout).toContain(`user ${readmeUser}: tier grace_period`);
    const devices = await rt.request("GET", "/v1/devices", { token: await rt.token(readmeUser) });
    expect((devices.json as { devices: Array<{ deviceId: string }> }).devices.map((d) => d.deviceId)).toEqual([phone]);
  });

  it("prints one command's help with <command> --help", async () => {
    // Act
    const run = await ok(["crisis", "--help"]);

    // Assess
    expect(run.stdout).toContain("crisis     activate [--level moderate|high|imminent]");
    expect(run.stdout).not.toContain("stripe     subscribe");
    expect(run.stdout).toContain("common: --user <id>");
  });

  it.each([
    ["an unknown command", ["fly"], {}, 2, /unknown command fly/],
    ["a bad option value", ["assessment", "--answers", "9,9"], {}, 2, /an assessment is --instrument PHQ-9 with 9 --answers/],
    ["no running service", ["devices", "list"], { PAYSYNC_DATA_DIR: emptyDataDir }, 1, /no running service uses .*start it with npm start/],
  ] as const)("exits non-zero with a clear message on %s", async (_name, args, env, code, message) => {
    // Act
    const run = await paysync([...args], { ...env });

    // Assess
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
  });
});
