import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Tier } from "@paysync/core/tiers";
import { eventually, useRuntime } from "../helpers/runtime.js";
import { makeOp, syncClient, type WireOp } from "../helpers/sync.js";

const rt = useRuntime();
const sync = syncClient(rt);

/** A small pool of op ids every user draws from, as clients with predictable ids (counters) would. */
const POOL = ["op-1", "op-2", "op-3", "op-4", "op-5"] as const;
const TIERS: Tier[] = ["free", "basic", "premium"];

/** Per user: which pool ids it uses (each at most once) and its tier; pushes are shuffled across users. */
const scenario = fc.record({
  users: fc.array(fc.record({ ids: fc.subarray([...POOL], { minLength: 1, maxLength: 4 }), tier: fc.constantFrom(...TIERS) }), { minLength: 3, maxLength: 5 }),
  order: fc.array(fc.nat(), { minLength: 20, maxLength: 20 }),
});

describe("two users who pick the same op ids (SPEC §5: ids never collide across users)", () => {
  it("both have every op applied exactly once, and every offline-queue slot is released", async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(scenario, async ({ users, order }) => {
      // Prepare: each user's ops carry pool ids; run-unique entity ids keep runs apart
      run += 1;
      const people = await Promise.all(users.map(async ({ ids, tier }, i) => {
        const user = await sync.user(`xop-${run}-${i}`, ["phone", "tablet"], tier);
        const ops = ids.map((opId) => makeOp({ opId, entityType: "check_in", entityId: `r${run}-u${i}-${opId}` }));
        return { ...user, ops };
      }));
      const pushes: Array<{ person: (typeof people)[number]; op: WireOp; rank: number }> = people
        .flatMap((person) => person.ops.map((op) => ({ person, op })))
        .map((push, i) => ({ ...push, rank: order[i % order.length]! }))
        .sort((a, b) => a.rank - b.rank);

      // Act: one op per request, two at a time, in the shuffled order
      for (let i = 0; i < pushes.length; i += 2) {
        await Promise.all(pushes.slice(i, i + 2).map(async ({ person, op }) => {
          const response = await sync.push(person.token, person.devices.phone!, [op]);
          expect(response.status, response.text).toBe(200);
          expect(response.json.results[0].status).toBe("queued");
        }));
      }

      // Assess
      for (const person of people) {
        const records = await sync.applied(person.userKey, person.ops.map((o) => o.opId), 15_000);
        expect([...records.values()].map((r) => r.outcome)).toEqual(person.ops.map(() => "applied"));
        for (const op of person.ops) expect(await sync.entity(person.userKey, "check_in", op.entityId)).toMatchObject({ version: 1 });
        await eventually(async () => ((await sync.pendingCount(person.userKey)) === 0 ? true : undefined), 15_000);
      }
    }), { numRuns: 6, interruptAfterTimeLimit: 120_000 });
  }, 180_000);
});
