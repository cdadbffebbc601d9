import { describe, expect, it } from "vitest";
import { protocolRefusal } from "@paysync/core/api/protocol";
import { pokesEveryChange, pokesFor } from "@paysync/core/sync";
import { policyFor, TIERS } from "@paysync/core/tiers";

const change = (entityType: string, priority: number, targetDeviceIds: string[], originDeviceId = "phone") => ({ entityType, priority, originDeviceId, targetDeviceIds });

describe("who is poked after a commit", () => {
  it.each([
    { case: "a crisis change, on any tier", changes: [change("safety_plan", 10, ["tablet", "laptop"])], everyChange: false, expected: [["tablet", 10], ["laptop", 10]] },
    { case: "a session handoff, on any tier", changes: [change("therapeutic_session", 8, ["tablet"])], everyChange: false, expected: [["tablet", 8]] },
    { case: "a payment change, on any tier", changes: [change("payment_state", 7, ["tablet"], "server")], everyChange: false, expected: [["tablet", 7]] },
    { case: "a mood entry off realtime tiers", changes: [change("mood_entry", 6, ["tablet"])], everyChange: false, expected: [] },
    { case: "a mood entry on premium", changes: [change("mood_entry", 6, ["tablet"])], everyChange: true, expected: [["tablet", 6]] },
    {
      case: "several changes: one poke per device at the highest priority",
      changes: [change("check_in", 4, ["tablet"]), change("crisis_state", 10, ["tablet"])], everyChange: true, expected: [["tablet", 10]],
    },
  ])("$case", ({ changes, everyChange, expected }) => {
    // Act
    const pokes = pokesFor(changes, everyChange);

    // Assess
    expect(pokes.map((p) => [p.deviceId, p.priority])).toEqual(expected);
  });

  it("pokes every change only on the realtime tier (premium)", () => {
    // Assess
    expect(TIERS.filter((tier) => pokesEveryChange(policyFor(tier)))).toEqual(["premium"]);
  });
});

describe("protocol versions", () => {
  it.each([
    { route: "POST /v1/sync/push", header: "1", expected: undefined },
    { route: "POST /v1/sync/push", header: undefined, expected: undefined },
    { route: "POST /v1/sync/push", header: "2", expected: "protocol_unsupported" },
    { route: "GET /v1/sync/pull", header: "0", expected: "protocol_unsupported" },
    { route: "GET /v1/devices", header: "one", expected: "validation_error" },
    { route: "POST /v1/crisis/activate", header: "99", expected: undefined },
    { route: "GET /v1/crisis/resources", header: "garbage", expected: undefined },
    { route: "GET /health", header: "7", expected: undefined },
  ])("$route with X-Paysync-Protocol $header → $expected", ({ route, header, expected }) => {
    // Act
    const refusal = protocolRefusal(route, header);

    // Assess
    expect(refusal?.code).toBe(expected);
    if (expected === "protocol_unsupported") expect(refusal?.details).toEqual({ supported: { min: 1, max: 1 } });
  });
});
