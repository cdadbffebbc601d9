import { describe, expect, it } from "vitest";
import { KeyedCoalescer } from "@paysync/core/crisis/fairness";

/** A read whose end the test decides, counting how often it started. */
function controlledReads() {
  const started: ((value: number) => void)[] = [];
  let count = 0;
  const read = () => new Promise<number>((resolve) => { count++; started.push(resolve); });
  return { read, started, starts: () => count };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("KeyedCoalescer", () => {
  it("serves a burst of callers with two reads: the running one's callers and those that arrived during it", async () => {
    // Prepare
    const reads = controlledReads();
    const coalescer = new KeyedCoalescer(reads.read);

    // Act
    const first = coalescer.get("u");
    await tick();
    const during = Array.from({ length: 10 }, () => coalescer.get("u"));
    reads.started[0]!(1);
    await tick();
    reads.started[1]!(2);

    // Assess
    expect(await first).toBe(1);
    expect(await Promise.all(during)).toEqual(Array(10).fill(2));
    expect(reads.starts()).toBe(2);
    expect(coalescer.size).toBe(0);
  });

  it("never hands a caller a read that began before it arrived", async () => {
    // Prepare
    const reads = controlledReads();
    const coalescer = new KeyedCoalescer(reads.read);
    const early = coalescer.get("u");
    await tick();

    // Act: a caller arriving while the first read runs waits for a read of its own
    const late = coalescer.get("u");
    reads.started[0]!(1);
    await tick();

    // Assess
    expect(await early).toBe(1);
    expect(reads.starts()).toBe(2);
    reads.started[1]!(2);
    expect(await late).toBe(2);
  });

  it("keeps keys apart and passes a failed read's error to its callers only", async () => {
    // Prepare
    let calls = 0;
    const coalescer = new KeyedCoalescer(async (key: string) => {
      calls++;
      if (key === "broken" && calls === 1) throw new Error("storage down");
      return key;
    });

    // Act
    const [broken, other] = await Promise.allSettled([coalescer.get("broken"), coalescer.get("other")]);

    // Assess
    expect(broken.status).toBe("rejected");
    expect(other).toEqual({ status: "fulfilled", value: "other" });
    expect(await coalescer.get("broken")).toBe("broken");
  });
});
