import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useRuntime } from "../helpers/runtime.js";

/**
 * At most one primary device per user (docs/SYNC.md §1): registering a new primary demotes the
 * old one in the same transaction, so parallel registrations leave exactly one — the last to commit.
 */
const rt = useRuntime();

async function newUser(label: string) {
  const token = await rt.token(`primary-${label}-${randomUUID()}`);
  // A 503 (a dependency timed out) is retried, as a client does: registration is idempotent.
  const register = async (deviceId: string, primary?: boolean) => {
    for (let attempt = 1; ; attempt++) {
      const answer = await rt.request("POST", "/v1/devices", { token, body: { deviceId, platform: "ios", ...(primary === undefined ? {} : { primary }) } });
      if (answer.status !== 503 || attempt === 5) return answer;
    }
  };
  const primaries = async () => {
    const list = await rt.request("GET", "/v1/devices", { token });
    return (list.json.devices as { deviceId: string; primary: boolean }[]).filter((d) => d.primary).map((d) => d.deviceId).sort();
  };
  const count = async () => ((await rt.request("GET", "/v1/devices", { token })).json.devices as unknown[]).length;
  return { token, register, primaries, count };
}

describe("one primary device per user", () => {
  it("a new primary demotes the old one", async () => {
    // Prepare
    const user = await newUser("demote");
    await user.register("phone", true);

    // Act
    const answer = await user.register("tablet", true);

    // Assess
    expect(answer.status).toBe(201);
    expect(answer.json.primary).toBe(true);
    expect(await user.primaries()).toEqual(["tablet"]);
  });

  it("an existing device becoming primary demotes the old one", async () => {
    // Prepare
    const user = await newUser("existing");
    await user.register("phone", true);
    await user.register("tablet");

    // Act
    const answer = await user.register("tablet", true);

    // Assess
    expect(answer.status).toBe(200);
    expect(await user.primaries()).toEqual(["tablet"]);
  });

  it("re-registering without `primary` keeps the device primary; `primary: false` leaves none", async () => {
    // Prepare
    const user = await newUser("keep");
    await user.register("phone", true);

    // Act
    await user.register("phone");
    const kept = await user.primaries();
    await user.register("phone", false);

    // Assess
    expect(kept).toEqual(["phone"]);
    expect(await user.primaries()).toEqual([]);
  });

  it("a primary removed, another registered primary: it is the only one", async () => {
    // Prepare
    const user = await newUser("removed");
    await user.register("phone", true);
    await rt.request("DELETE", "/v1/devices/phone", { token: user.token });

    // Act
    await user.register("tablet", true);
    await user.register("phone");

    // Assess
    expect(await user.primaries()).toEqual(["tablet"]);
  });

  it("parallel registrations of new primaries leave exactly one, and every device registered", async () => {
    // Prepare
    const user = await newUser("parallel-new");
    const ids = Array.from({ length: 8 }, (_, i) => `device-${i}`);

    // Act
    const answers = await Promise.all(ids.map((id) => user.register(id, true)));

    // Assess
    // 200 where a retried registration had committed before its 503.
    expect(answers.every((a) => a.status === 201 || a.status === 200), answers.map((a) => a.status).join(",")).toBe(true);
    expect(await user.primaries()).toHaveLength(1);
    expect(await user.count()).toBe(ids.length);
  });

  it("parallel promotions of existing devices leave exactly one primary", async () => {
    // Prepare
    const user = await newUser("parallel-existing");
    const ids = Array.from({ length: 6 }, (_, i) => `device-${i}`);
    for (const id of ids) await user.register(id);

    // Act
    const answers = await Promise.all(ids.map((id) => user.register(id, true)));

    // Assess
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
    expect(await user.primaries()).toHaveLength(1);
  });
});
