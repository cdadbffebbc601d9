import { QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { expect } from "vitest";
import { ErrorBodySchema } from "@paysync/core/api";
import type { RawResponse } from "./fuzz-inputs.js";

/**
 * Checks of the fuzz test (`test/integration/fuzz.test.ts`): how a refusal must look, and a
 * property run whose failure stays readable. FUZZ_RUNS sets the runs per property (default
 * 25); FUZZ_SEED replays a failure with the seed fast-check reported (with `-t <test name>`).
 *
 * @example
 * await check(randomJsonBody, async ({ label, value }) => expectRefused(await post(value), label));
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };

/**
 * A 4xx with the API's `{error: {code, message}}` — what the gateway refuses before any function
 * runs (400 malformed URL, 401, 404, 405, 413, 431) included: the local gateway answers those
 * through the same error mapper as the handlers.
 */
export function expectRefused(response: RawResponse, label: string) {
  const where = `${label} → ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.status, where).toBeGreaterThanOrEqual(400);
  expect(response.status, where).toBeLessThan(500);
  expect(ErrorBodySchema.safeParse(response.json).success, where).toBe(true);
}

/** `fc.assert` whose failure stays readable: counterexamples of 300 KB strings are cut short. */
export async function check<T>(arbitrary: fc.Arbitrary<T>, body: (value: T) => Promise<void>) {
  try {
    await fc.assert(fc.asyncProperty(arbitrary, body), { numRuns: RUNS, endOnFailure: true, ...SEED });
  } catch (error) {
    const cut = (text: string) => (text.length > 2_000 ? `${text.slice(0, 2_000)}… (${text.length} characters)` : text);
    // The failed assertion is kept as the cause; fast-check's own error is not, for its size.
    // eslint-disable-next-line preserve-caught-error -- its message holds the whole counterexample
    throw new Error(cut((error as Error).message), { cause: (error as Error).cause });
  }
}

/** Every raw item of one partition. */
export async function partition(dynamo: DynamoDBDocumentClient, table: string, pk: string) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(new QueryCommand({
      TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": pk }, ConsistentRead: true, ExclusiveStartKey: start,
    }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
