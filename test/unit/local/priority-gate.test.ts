import { describe, expect, it } from "vitest";
import { PriorityGate } from "@paysync/local/priority-gate";

type Lane = "Realtime" | "Standard" | "Background";

/** A gate whose yield timers fire only when the test says so. */
function gate(shares: Record<Lane, number> = { Realtime: 2, Standard: 1, Background: 1 }) {
  const timers: (() => void)[] = [];
  const subject = new PriorityGate<Lane>(
    (["Realtime", "Standard", "Background"] as const).map((lane) => ({ lane, share: shares[lane] })),
    { setTimer: (run) => timers.push(run) },
  );
  const started: Lane[] = [];
  const releases = new Map<Lane, (() => void)[]>();
  const ask = (lane: Lane) => {
    void subject.acquire(lane).then((release) => {
      started.push(lane);
      releases.set(lane, [...(releases.get(lane) ?? []), release]);
    });
  };
  const release = (lane: Lane) => releases.get(lane)?.shift()?.();
  const settle = () => new Promise((r) => setImmediate(r));
  const yieldTimeout = () => { for (const run = timers.splice(0); run.length > 0;) run.shift()?.(); };
  return { subject, started, ask, release, settle, yieldTimeout };
}

describe("the lanes' priority gate", () => {
  it("lets a lane run up to its share when no higher lane has work", async () => {
    // Prepare
    const g = gate();
    // Act
    g.ask("Background");
    g.ask("Background");
    await g.settle();
    // Assess
    expect(g.started).toEqual(["Background"]);
    expect(g.subject.running("Background")).toBe(1);
  });

  it("gives the realtime lane its own slots while a background flood runs", async () => {
    // Prepare
    const g = gate();
    g.ask("Background");
    g.ask("Background");
    await g.settle();
    // Act
    g.ask("Realtime");
    g.ask("Realtime");
    await g.settle();
    // Assess
    expect(g.started).toEqual(["Background", "Realtime", "Realtime"]);
  });

  it("holds lower lanes back while a higher lane has a batch running or waiting", async () => {
    // Prepare
    const g = gate();
    g.ask("Realtime");
    await g.settle();
    // Act
    g.ask("Background");
    g.ask("Standard");
    await g.settle();
    const whileRealtimeRuns = [...g.started];
    g.release("Realtime");
    await g.settle();
    // Assess
    expect(whileRealtimeRuns).toEqual(["Realtime"]);
    expect(g.started).toEqual(["Realtime", "Standard"]);
    g.release("Standard");
    await g.settle();
    expect(g.started).toEqual(["Realtime", "Standard", "Background"]);
  });

  it("starts a lower lane's batch once it has yielded its longest, so background work never parks", async () => {
    // Prepare
    const g = gate();
    g.ask("Realtime");
    g.ask("Background");
    await g.settle();
    // Act
    g.yieldTimeout();
    await g.settle();
    // Assess
    expect(g.started).toEqual(["Realtime", "Background"]);
  });

  it("never lets a lane exceed its share, overdue or not", async () => {
    // Prepare
    const g = gate({ Realtime: 1, Standard: 1, Background: 1 });
    g.ask("Background");
    g.ask("Background");
    await g.settle();
    // Act
    g.yieldTimeout();
    await g.settle();
    // Assess
    expect(g.subject.running("Background")).toBe(1);
    g.release("Background");
    await g.settle();
    expect(g.started).toEqual(["Background", "Background"]);
  });
});
