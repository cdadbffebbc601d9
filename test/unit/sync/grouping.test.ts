import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_GROUP_ID_LENGTH, messageGroupId, shardFor } from "@paysync/core/sync";

describe("shards and message groups", () => {
  it("a shard is always in [0, n) and the same for the same entity", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 128 }), fc.integer({ min: 1, max: 1_000 }), (entityId, n) => {
        // Act
        const shard = shardFor(entityId, n);

        // Assess
        expect(Number.isInteger(shard)).toBe(true);
        expect(shard).toBeGreaterThanOrEqual(0);
        expect(shard).toBeLessThan(n);
        expect(shardFor(entityId, n)).toBe(shard);
      }),
    );
  });

  it("a single-op tier puts every entity in shard 0", () => {
    fc.assert(
      fc.property(fc.string(), (entityId) => {
        expect(shardFor(entityId, 1)).toBe(0);
      }),
    );
  });

  it("entities spread over every shard", () => {
    // Prepare
    const n = 10;
    const counts = new Array<number>(n).fill(0);

    // Act
    for (let i = 0; i < 2_000; i++) {
      const shard = shardFor(`entity-${i}`, n);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }

    // Assess: each shard gets a fair share (expected 200)
    for (const count of counts) expect(count).toBeGreaterThan(120);
  });

  it.each([
    [10, 2],
    [2 ** 32, 1_580_031_262],
  ])("the shard of a known id is pinned (n = %i), so a change of hashing cannot slip in", (n, expected) => {
    // Assess: sha256("entry-1") starts with 0x5e2d5d1e; changing it would reorder in-flight groups
    expect(shardFor("entry-1", n)).toBe(expected);
  });

  it.each([0, -1, 1.5, Number.NaN])("max concurrent ops of %s is refused", (n) => {
    // Assess
    expect(() => shardFor("entity", n)).toThrow(RangeError);
  });

  it("the message group is userKey#shard", () => {
    // Act
    const id = messageGroupId("u_3f2a", 2);

    // Assess
    expect(id).toBe("u_3f2a#2");
  });

  it("a message group id over SQS's 128 characters is refused", () => {
    // Prepare
    const userKey = "k".repeat(MAX_MESSAGE_GROUP_ID_LENGTH - 1);

    // Act & Assess
    expect(() => messageGroupId(userKey, 12)).toThrow(RangeError);
    expect(messageGroupId(userKey.slice(2), 9)).toHaveLength(MAX_MESSAGE_GROUP_ID_LENGTH - 1);
  });
});
