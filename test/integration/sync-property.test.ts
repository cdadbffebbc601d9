import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { useRuntime } from "../helpers/runtime.js";
import { makeOp, syncClient, type WireOp } from "../helpers/sync.js";

const rt = useRuntime();
const sync = syncClient(rt);

const DEVICES = ["d0", "d1", "d2"] as const;
/** Even entities are premium content (realtime lane), odd ones mood entries (standard lane). */
const ENTITIES = 4;
const entityTypeOf = (entity: number) => (entity % 2 === 0 ? "premium_content" : "mood_entry");

interface Step {
  device: number;
  entity: number;
  /** Re-send an earlier op of the same device instead of a new one (a retry). */
  duplicate: boolean;
}

/** A wave is a few pushes sent at once; waves run one after another. */
const scenario = fc.array(
  fc.array(fc.array(fc.record({ device: fc.integer({ min: 0, max: 2 }), entity: fc.integer({ min: 0, max: ENTITIES - 1 }), duplicate: fc.boolean() }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  { minLength: 3, maxLength: 5 },
);

describe("random interleavings of pushes from three devices, with duplicates", () => {
  it("deliver every applied op exactly once to each other device, never to its origin, in per-entity order", async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(scenario, async (waves) => {
      // Prepare
      const { token, userKey, devices } = await sync.user(`prop-${++run}`, [...DEVICES], "premium");
      const sent: Record<string, WireOp[]> = { d0: [], d1: [], d2: [] };
      let clock = Date.now() - 60_000;

      // Act
      for (const wave of waves) {
        await Promise.all(wave.map(async (push: Step[]) => {
          const device = DEVICES[push[0]!.device]!;
          const ops = push.map((step) => {
            const earlier = sent[device]!.find((op) => op.entityId === `ent-${step.entity}`);
            if (step.duplicate && earlier) return earlier;
            const op = makeOp({ entityType: entityTypeOf(step.entity), entityId: `ent-${step.entity}`, clientTime: new Date(clock += 1_000).toISOString() });
            sent[device]!.push(op);
            return op;
          });
          const response = await sync.push(token, devices[device]!, ops);
          expect(response.status, response.text).toBe(200);
          expect(response.json.results.every((r: any) => r.status === "queued" || r.status === "duplicate")).toBe(true);
        }));
      }
      const allOps = Object.values(sent).flat();
      const records = await sync.applied(userKey, allOps.map((o) => o.opId));
      const feeds = Object.fromEntries(await Promise.all(DEVICES.map(async (d) => [d, await sync.pullAll(token, devices[d]!)] as const)));

      // Assess
      for (const device of DEVICES) {
        const feed = feeds[device]!;
        const expected = DEVICES.filter((d) => d !== device).flatMap((d) => sent[d]!).filter((op) => records.get(op.opId)?.outcome === "applied");
        expect(feed.every((c: any) => c.originDeviceId !== devices[device])).toBe(true);
        expect(feed.map((c: any) => c.payload.opId).sort()).toEqual(expected.map((op) => op.opId).sort());
        for (let entity = 0; entity < ENTITIES; entity++) {
          const versions = feed.filter((c: any) => c.entityId === `ent-${entity}`).map((c: any) => c.version);
          expect(versions).toEqual([...versions].sort((a, b) => a - b));
          expect(new Set(versions).size).toBe(versions.length);
        }
      }
      // One entity's ops from one device apply in the order the device sent them.
      for (const device of DEVICES) {
        for (let entity = 0; entity < ENTITIES; entity++) {
          const versions = sent[device]!.filter((op) => op.entityId === `ent-${entity}`)
            .map((op) => records.get(op.opId)).filter((r) => r?.outcome === "applied").map((r) => r!.version as number);
          expect(versions).toEqual([...versions].sort((a, b) => a - b));
        }
      }
    }), { numRuns: 15, interruptAfterTimeLimit: 120_000 });
  }, 180_000);
});
