import { describe, expect, it } from "vitest";
import type { SyncOp, SyncOpResult } from "@paysync/core/api";
import { LimitExceededError, PayloadTooLargeError, ValidationError } from "@paysync/core/errors";
import type { Tier } from "@paysync/core/tiers";
import {
  assertCrisisPayloads, assertPayloadSizes, decodeCursor, encodeCursor, encodeSnapshotCursor, planPush, pushAnswer,
} from "@paysync/core/sync";

const NOW = Date.parse("2025-03-10T12:00:00.000Z");
let seq = 0;

function op(overrides: Partial<SyncOp> = {}): SyncOp {
  return {
    opId: `op-${++seq}`, entityType: "check_in", entityId: "e1", action: "upsert", baseVersion: 0,
    payload: { note: "ok" }, clientTime: "2025-03-10T11:59:00.000Z", ...overrides,
  };
}

const context = (tier: Tier, extra: { inCrisisMode?: boolean; inActiveSession?: boolean } = {}) => ({
  tier, receivedAtMs: NOW, inCrisisMode: extra.inCrisisMode ?? false, inActiveSession: extra.inActiveSession ?? false,
});

describe("planning a push", () => {
  it.each([
    { case: "a check-in on basic", tier: "basic" as Tier, entityType: "check_in" as const, payload: {}, priority: 4, lane: "standard" },
    { case: "a mood entry on free is capped at the free ceiling", tier: "free" as Tier, entityType: "mood_entry" as const, payload: {}, priority: 2, lane: "background" },
    { case: "premium content on premium", tier: "premium" as Tier, entityType: "premium_content" as const, payload: {}, priority: 7, lane: "realtime" },
    { case: "a breathing session on free keeps priority 8", tier: "free" as Tier, entityType: "breathing_session" as const, payload: {}, priority: 8, lane: "realtime" },
    { case: "a safety plan on trial is crisis", tier: "trial" as Tier, entityType: "safety_plan" as const, payload: {}, priority: 10, lane: "crisis" },
    {
      case: "a PHQ-9 with item 9 answered is a crisis assessment on free", tier: "free" as Tier, entityType: "assessment" as const,
      payload: { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0, 1] }, priority: 9, lane: "crisis",
    },
    {
      case: "a mild GAD-7 on premium is assessment data", tier: "premium" as Tier, entityType: "assessment" as const,
      payload: { instrument: "GAD-7", answers: [1, 1, 1, 1, 1, 1, 1] }, priority: 6, lane: "standard",
    },
  ])("classifies $case", ({ tier, entityType, payload, priority, lane }) => {
    // Act
    const [planned] = planPush([op({ entityType, payload: payload as SyncOp["payload"] })], context(tier)).ops;

    // Assess
    expect(planned).toMatchObject({ priority, lane, exempt: priority >= 8 });
  });

  it.each([
    { case: "in crisis mode", extra: { inCrisisMode: true }, tier: "premium" as Tier, expected: 7 },
    { case: "in an active session", extra: { inActiveSession: true }, tier: "premium" as Tier, expected: 7 },
    { case: "for basic, which cannot escalate", extra: { inCrisisMode: true }, tier: "basic" as Tier, expected: 4 },
    { case: "when nothing is going on", extra: {}, tier: "premium" as Tier, expected: 6 },
  ])("escalates a priority-6 op $case to $expected", ({ extra, tier, expected }) => {
    // Act
    const [planned] = planPush([op({ entityType: "mood_entry" })], context(tier, extra)).ops;

    // Assess
    expect(planned?.priority).toBe(expected);
  });

  it("charges only the ops below priority 8, and marks a repeated opId as a repeat", () => {
    // Prepare
    const first = op();
    const ops = [first, op({ entityType: "breathing_session" }), { ...first }];

    // Act
    const plan = planPush(ops, context("basic"));

    // Assess
    expect(plan.ops.map((p) => p.repeatOf)).toEqual([null, null, 0]);
    expect(plan.chargedBytes).toBe(plan.ops[0]!.bytes * 2);
  });

  it("classifies an assessment delete by its type, whatever payload it carries (a delete's payload is never applied)", () => {
    // Act
    const [planned] = planPush([op({ entityType: "assessment", action: "delete", payload: "not an assessment" })], context("premium")).ops;

    // Assess
    expect(planned).toMatchObject({ priority: 6, lane: "standard" });
  });

  it("caps a client time far in the future at five minutes after receipt", () => {
    // Act
    const [planned] = planPush([op({ clientTime: "2030-01-01T00:00:00.000Z" })], context("basic")).ops;

    // Assess
    expect(planned?.clientTime).toBe(new Date(NOW + 5 * 60_000).toISOString());
  });
});

describe("refusing a request before anything is applied", () => {
  it("answers 413 naming every op whose payload is over 256 KiB", () => {
    // Prepare
    const big = op({ payload: { blob: "x".repeat(256 * 1024) } });

    // Act
    const act = () => assertPayloadSizes([op(), big]);

    // Assess
    expect(act).toThrow(PayloadTooLargeError);
    try { act(); } catch (error) {
      expect((error as PayloadTooLargeError).details).toMatchObject({ ops: [{ opId: big.opId }] });
    }
  });

  it("answers 400 for a malformed safety plan pushed among other ops", () => {
    // Prepare
    const plan = planPush([op(), op({ entityType: "safety_plan", payload: { warningSigns: "not a list" } })], context("free"));

    // Act / Assess
    expect(() => assertCrisisPayloads(plan.ops)).toThrow(ValidationError);
  });

  it("accepts a crisis-state delete with no payload", () => {
    // Prepare
    const plan = planPush([op({ entityType: "crisis_state", action: "delete", payload: undefined })], context("free"));

    // Act / Assess
    expect(() => assertCrisisPayloads(plan.ops)).not.toThrow();
  });
});

describe("the answer of a push", () => {
  const queue = new LimitExceededError("offline_queue", 60, "queue full");
  const result = (opId: string, status: SyncOpResult["status"]): SyncOpResult => ({ opId, status, priority: 2, lane: "background" });

  it.each([
    { case: "everything taken", results: [result("a", "queued"), result("b", "duplicate")], refused: [], expected: { status: 200 } },
    { case: "some refused", results: [result("a", "queued"), result("b", "rejected")], refused: ["b"], expected: { status: 200, retryAfterSeconds: 60 } },
    { case: "all refused", results: [result("a", "rejected")], refused: ["a"], expected: { status: 429, limit: "offline_queue", retryAfterSeconds: 60 } },
  ])("is $expected.status when $case", ({ results, refused, expected }) => {
    // Act
    const answer = pushAnswer(results, new Map(refused.map((id) => [id, queue])));

    // Assess
    expect(answer).toMatchObject(expected);
  });
});

describe("pull cursors", () => {
  it.each([0, 1, 42, 9_007_199_254_740])("a feed cursor round-trips %i", (seq) => {
    // Assess
    expect(decodeCursor(encodeCursor(seq))).toEqual({ phase: "feed", seq, directoryVersion: 0 });
  });

  it.each([
    { case: "a feed cursor", cursor: encodeCursor(42, 7), expected: { phase: "feed", seq: 42, directoryVersion: 7 } },
    { case: "a snapshot cursor", cursor: encodeSnapshotCursor(17, { entityType: "mood_entry", entityId: "m-1" }, 3), expected: { phase: "snapshot", snapshotSeq: 17, after: { entityType: "mood_entry", entityId: "m-1" }, directoryVersion: 3 } },
    { case: "a cursor issued before the directory existed", cursor: Buffer.from("v1.42").toString("base64url"), expected: { phase: "feed", seq: 42, directoryVersion: 0 } },
  ])("$case carries the crisis directory version the device was given", ({ cursor, expected }) => {
    // Assess
    expect(decodeCursor(cursor)).toEqual(expected);
  });

  it.each([
    { after: null },
    { after: { entityType: "mood_entry", entityId: "m-2024_06-01" } },
  ])("a snapshot cursor round-trips its point and position ($after)", ({ after }) => {
    // Assess
    expect(decodeCursor(encodeSnapshotCursor(17, after))).toEqual({ phase: "snapshot", snapshotSeq: 17, after, directoryVersion: 0 });
  });

  it.each([
    "abc", Buffer.from("v2.1").toString("base64url"), Buffer.from("v1.-1").toString("base64url"),
    Buffer.from("v2.s.x.").toString("base64url"), Buffer.from("v2.s.3.mood_entry").toString("base64url"),
    Buffer.from("v2.s.3.mood entry.a").toString("base64url"), Buffer.from("v1.3~").toString("base64url"),
    Buffer.from("v1.3~x").toString("base64url"), Buffer.from("v1.3~12345678901").toString("base64url"),
  ])("refuses %s as a 400", (cursor) => {
    // Assess
    expect(() => decodeCursor(cursor)).toThrow(ValidationError);
  });

  it("starts a bootstrap without a cursor", () => {
    // Assess
    expect(decodeCursor(undefined)).toEqual({ phase: "start", directoryVersion: 0 });
  });
});
