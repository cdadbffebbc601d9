import { describe, expect, it } from "vitest";
import { backoffCeiling, backoffDelay, Backoff, DEFAULT_BACKOFF } from "@paysync/client/backoff";
import { DEFAULT_BATCHING, initialBatchState, observeBatch, planBatch, type BatchState } from "@paysync/client/batching";
import { classPriority, sendOrder } from "@paysync/client/priority";

const policy = { baseMs: 500, capMs: 60_000 };

describe("back-off", () => {
  it.each([
    { name: "the first retry waits at most the base", attempt: 0, ceiling: 500 },
    { name: "each retry doubles the ceiling", attempt: 3, ceiling: 4_000 },
    { name: "the ceiling stops at the cap", attempt: 7, ceiling: 60_000 },
    { name: "a huge attempt count stays at the cap", attempt: 5_000, ceiling: 60_000 },
  ])("$name", ({ attempt, ceiling }) => {
    // Act
    const actual = backoffCeiling(attempt, policy);

    // Assess
    expect(actual).toBe(ceiling);
  });

  it.each([
    { name: "full jitter can wait nothing", random: 0, expected: 0 },
    { name: "full jitter stays below the ceiling", random: 0.999_999, expected: 3_999 },
    { name: "an out-of-range random is clamped", random: 7, expected: 4_000 },
  ])("$name", ({ random, expected }) => {
    // Act
    const delay = backoffDelay(3, policy, () => random);

    // Assess
    expect(delay).toBe(expected);
  });

  it("delays of a run of failures lie within [0, min(cap, base·2ⁿ)) and reset after a success", () => {
    // Prepare
    let r = 0;
    const randoms = [0.1, 0.9, 0.5, 0.99, 0.01, 0.7, 0.3, 0.8, 0.6, 0.95];
    const backoff = new Backoff(DEFAULT_BACKOFF, () => randoms[r++ % randoms.length]!);

    // Act
    const delays = Array.from({ length: 10 }, () => backoff.next());
    backoff.reset();
    const afterReset = backoff.next();

    // Assess
    delays.forEach((delay, n) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(DEFAULT_BACKOFF.capMs, DEFAULT_BACKOFF.baseMs * 2 ** n));
    });
    expect(afterReset).toBeLessThan(DEFAULT_BACKOFF.baseMs);
  });
});

describe("adaptive batch sizing", () => {
  const p = DEFAULT_BATCHING;
  const full = (state: BatchState, durationMs: number) =>
    observeBatch(state, { items: state.items, bytes: state.bytes, durationMs, outcome: "ok" }, p);

  it("starts small", () => {
    // Act
    const state = initialBatchState(p);

    // Assess
    expect(state.items).toBe(25);
    expect(state.bytes).toBe(256 * 1024);
  });

  it.each([
    { name: "a full batch answered fast doubles", durationMs: 100, items: 50 },
    { name: "a full batch answered at 60 % of the budget keeps its size", durationMs: 900, items: 25 },
    { name: "a batch answered twice over budget halves", durationMs: 3_000, items: 12 },
    { name: "a batch answered ten times over budget shrinks by ten", durationMs: 15_000, items: 2 },
  ])("$name", ({ durationMs, items }) => {
    // Act
    const next = full(initialBatchState(p), durationMs);

    // Assess
    expect(next.items).toBe(items);
  });

  it("grows on a fast link up to the protocol's 500 ops, never beyond", () => {
    // Prepare
    let state = initialBatchState(p);

    // Act
    for (let i = 0; i < 12; i += 1) state = full(state, 50);

    // Assess
    expect(state.items).toBe(500);
    expect(state.bytes).toBe(p.maxBytes);
  });

  it("a timeout halves both limits, never below the minimum", () => {
    // Prepare
    let state = initialBatchState(p);

    // Act
    const once = observeBatch(state, { items: 25, bytes: 1_000, durationMs: 30_000, outcome: "timeout" }, p);
    for (let i = 0; i < 10; i += 1) state = observeBatch(state, { items: 1, bytes: 1, durationMs: 30_000, outcome: "timeout" }, p);

    // Assess
    expect(once.items).toBe(12);
    expect(state.items).toBe(1);
    expect(state.bytes).toBe(p.minBytes);
  });

  it("a batch that did not fill its limit does not grow it, and a server error changes nothing", () => {
    // Prepare
    const state = initialBatchState(p);

    // Act
    const partial = observeBatch(state, { items: 3, bytes: 100, durationMs: 10, outcome: "ok" }, p);
    const error = observeBatch(state, { items: 25, bytes: 100, durationMs: 10, outcome: "error" }, p);

    // Assess
    expect(partial.items).toBe(25);
    expect(error).toEqual(state);
  });

  it("measures round-trip time and throughput", () => {
    // Act
    const next = observeBatch(initialBatchState(p), { items: 25, bytes: 50_000, durationMs: 500, outcome: "ok" }, p);

    // Assess
    expect(next.rttMs).toBe(500);
    expect(next.bytesPerMs).toBe(100);
  });

  it.each([
    { name: "takes as many ops as the count allows", sizes: [10, 10, 10, 10], state: { items: 3, bytes: 1_000 }, count: 3 },
    { name: "stops before the byte budget", sizes: [400, 400, 400], state: { items: 10, bytes: 1_000 }, count: 2 },
    { name: "sends an op larger than the budget alone", sizes: [5_000, 10], state: { items: 10, bytes: 1_000 }, count: 1 },
    { name: "never cuts out an op in the middle", sizes: [10, 2_000, 10], state: { items: 10, bytes: 1_000 }, count: 1 },
  ])("a batch $name", ({ sizes, state, count }) => {
    // Act
    const plan = planBatch({ ...state, rttMs: null, bytesPerMs: null }, sizes, { ...p, minBytes: 1 });

    // Assess
    expect(plan.count).toBe(count);
  });
});

describe("send order", () => {
  it.each([
    { name: "a safety plan is crisis", type: "safety_plan", payload: {}, priority: 10 },
    { name: "a mild PHQ-9 is assessment data", type: "assessment", payload: { instrument: "PHQ-9", answers: [1, 1, 1, 1, 1, 1, 1, 1, 0] }, priority: 6 },
    { name: "a PHQ-9 with item 9 above zero is crisis", type: "assessment", payload: { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0, 1] }, priority: 9 },
    { name: "a PHQ-9 total of 20 is crisis", type: "assessment", payload: { instrument: "PHQ-9", answers: [3, 3, 3, 3, 3, 3, 2, 0, 0] }, priority: 9 },
    { name: "a GAD-7 total of 15 is crisis", type: "assessment", payload: { instrument: "GAD-7", answers: [3, 3, 3, 3, 3, 0, 0] }, priority: 9 },
    { name: "a GAD-7 total of 14 is not", type: "assessment", payload: { instrument: "GAD-7", answers: [3, 3, 3, 3, 2, 0, 0] }, priority: 6 },
    { name: "a breathing session is therapeutic", type: "breathing_session", payload: {}, priority: 8 },
    { name: "history is background", type: "history", payload: {}, priority: 3 },
    { name: "an unknown type is deferred", type: "something_new", payload: {}, priority: 1 },
  ])("$name", ({ type, payload, priority }) => {
    // Act
    const actual = classPriority(type, payload);

    // Assess
    expect(actual).toBe(priority);
  });

  it("crisis first, then by priority, then in the order made; an entity's earlier op rides ahead of its later crisis op", () => {
    // Prepare
    const ops = [
      { seq: 1, entityKey: "history/h", priority: 3 },
      { seq: 2, entityKey: "assessment/a", priority: 6 },
      { seq: 3, entityKey: "mood_entry/m", priority: 6 },
      { seq: 4, entityKey: "safety_plan/current", priority: 10 },
      { seq: 5, entityKey: "assessment/a", priority: 9 },
    ];

    // Act
    const order = sendOrder(ops).map((op) => [op.seq, op.sendPriority]);

    // Assess
    expect(order).toEqual([[4, 10], [2, 9], [5, 9], [3, 6], [1, 3]]);
  });
});
