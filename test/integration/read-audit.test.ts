import { beforeAll, describe, expect, it } from "vitest";
import { pseudonymousKey } from "@paysync/core/pii";
import type { AuditEntry, AuditLog } from "@paysync/aws/store/audit-log";
import { eventually, useRuntime } from "../helpers/runtime.js";
import { syncClient } from "../helpers/sync.js";

const rt = useRuntime();
const sync = syncClient(rt);
let log: AuditLog;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  log = (await import("@paysync/aws/wiring")).wiring.audit();
});

/** The user's entries of one action, polled for: the crisis function's entry may land just after its answer. */
async function entriesOf(userKey: string, action: string | RegExp): Promise<AuditEntry[]> {
  return eventually(async () => {
    const found = (await log.entries({ from: new Date(Date.now() - 300_000) }))
      .filter((e) => e.userKey === userKey && (typeof action === "string" ? e.action === action : action.test(e.action)));
    return found.length > 0 ? found : undefined;
  });
}

const deviceKeyOf = (userKey: string, deviceId: string) => pseudonymousKey(rt.secrets.pseudonymSecret, `${userKey}/${deviceId}`, "d");

describe("reads of a user's data are audited", () => {
  // The crisis function's own telemetry entry (`crisis.resources`, with its latency) is the
  // record of that read: the crisis path gets no second write.
  it.each<[string, string, string, string, Record<string, unknown>]>([
    ["the entitlements", "GET", "/v1/me/entitlements", "read.entitlements", { count: 0 }],
    ["the crisis resources", "GET", "/v1/crisis/resources", "crisis.resources", { priority: 10 }],
  ])("a read of %s leaves exactly one entry, with no payload", async (_name, method, path, action, fields) => {
    // Prepare
    const user = await sync.user("read-audit", ["phone"]);

    // Act
    const response = await rt.request(method, path, { token: user.token });

    // Assess
    expect(response.status, response.text).toBe(200);
    const entries = await entriesOf(user.userKey, action);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: "device", outcome: "ok", ...fields });
    expect(JSON.stringify(entries[0])).not.toContain(user.userId);
  });

  it("a bootstrap page leaves one entry naming the device by its pseudonym, with the change count and bytes sent", async () => {
    // Prepare
    const user = await sync.user("read-audit-pull", ["phone"]);
    const deviceId = user.devices.phone!;

    // Act
    const response = await sync.pull(user.token, deviceId, { limit: 10, withDirectory: true });

    // Assess
    expect(response.status, response.text).toBe(200);
    // A bootstrap of a user with no entities ends its snapshot on the first page (phase feed).
    const entries = await entriesOf(user.userKey, /^read\.pull\./);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: `read.pull.${response.json.phase}`, actor: "device", deviceKey: deviceKeyOf(user.userKey, deviceId), count: response.json.changes.length, outcome: "ok" });
    expect(entries[0]!.bytes).toBeGreaterThan(0);
    expect(JSON.stringify(entries[0])).not.toContain(deviceId);
  });
});
