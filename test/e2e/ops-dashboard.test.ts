import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpsSummarySchema } from "@paysync/core/ops/summary-schema";
import { useRuntime } from "../helpers/runtime.js";

const rt = useRuntime();
const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`ops dashboard browser test SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** The flags this machine needs (docs: no GPU, no sandbox as root, no calls to Google's hosts). */
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

async function activateCrisis(label: string): Promise<void> {
  const userId = `ops-${label}-${Date.now().toString(36)}`;
  const token = await rt.token(userId);
  const deviceId = `ops-phone-${randomBytes(6).toString("hex")}`; // never derived from the user id (PII check)
  expect((await rt.request("POST", "/v1/devices", { token, body: { deviceId, platform: "web" } })).status).toBe(201);
  const activated = await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId, level: "high", source: "button" } });
  expect(activated.status, activated.text).toBe(200);
}

describe("the ops dashboard's admin gate", () => {
  it.each([
    ["the page without a token", "/ops", {}],
    ["the API without a token", "/ops/api/summary", {}],
    ["the API with a device's JWT-shaped bearer", "/ops/api/summary", { authorization: "Bearer not-the-admin-token" }],
    ["the page with a wrong ?token=", "/ops?token=wrong", {}],
    ["the script without a session", "/ops/dashboard.js", {}],
  ])("answers 401 to %s", async (_name, path, headers) => {
    // Act
    const response = await rt.request("GET", path, { headers });

    // Assess
    expect(response.status).toBe(401);
    expect(response.text).not.toContain(rt.secrets.adminToken);
  });

  it("serves the summary to the admin token as the documented wire shape", async () => {
    // Act
    const response = await rt.request("GET", "/ops/api/summary?window=15", { headers: { authorization: `Bearer ${rt.secrets.adminToken}` } });

    // Assess
    expect(response.status).toBe(200);
    const summary = OpsSummarySchema.parse(response.json);
    expect(summary.window.minutes).toBe(15);
    expect(summary.lanes.map((l) => l.lane)).toEqual(["Realtime", "Standard", "Background", "Webhooks", "Audit"]);
  });
});

describe.skipIf(!hasChromium)("the ops dashboard in headless Chromium", () => {
  const profile = mkdtempSync(join(tmpdir(), "paysync-chromium-"));
  let browser: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on("console", (message) => { if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`); });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
    page.on("response", (response) => { if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`); });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  const activations = async () => Number(await page.textContent("#crisis-activations"));

  it("opens with the admin token, which leaves the address bar for an HttpOnly cookie", async () => {
    // Act
    const response = await page.goto(`${rt.baseUrl}/ops?token=${rt.secrets.adminToken}`);
    await page.waitForSelector("body[data-generated-at]");

    // Assess
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${rt.baseUrl}/ops`);
    const cookies = await browser.cookies(`${rt.baseUrl}/ops`);
    expect(cookies.find((c) => c.name === "paysync_ops")).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/ops" });
    expect(await page.textContent("#status")).toBe("live");
    expect(await page.locator("#lanes-body tr").count()).toBe(5); // the four work lanes and the Audit lane
    expect(await page.locator("#apply-body tr").count()).toBe(10);
    expect(await page.textContent("#audit-status")).toBe("intact");
    expect(Number.isInteger(await activations())).toBe(true);
  });

  it("shows a crisis activation made through the API within a few polls", async () => {
    // Prepare
    const before = await activations();

    // Act
    await activateCrisis("live");

    // Assess
    await expect.poll(activations, { timeout: 15_000, interval: 250 }).toBeGreaterThanOrEqual(before + 1);
    expect(Number(await page.textContent("#crisis-calls"))).toBeGreaterThan(0);
    expect(await page.locator("#crisis-histogram .bar").count()).toBe(7);
  });

  it("fits the Queues and Apply-latency tables in their panels at 1400 px, status and breaches columns included", async () => {
    // Act
    await page.setViewportSize({ width: 1400, height: 900 });
    const overflow = await Promise.all(["lanes", "apply"].map(async (id) => ({
      id, hidden: await page.locator(`#${id}`).evaluate((panel: { scrollWidth: number; clientWidth: number }) => panel.scrollWidth - panel.clientWidth),
    })));

    // Assess
    expect(overflow).toEqual([{ id: "lanes", hidden: 0 }, { id: "apply", hidden: 0 }]);
  });

  it("logged no console error, page error or failed request while it ran", () => {
    // Assess
    expect(problems).toEqual([]);
  });
});
