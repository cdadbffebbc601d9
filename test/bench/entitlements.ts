import type { BenchService } from "./service.js";

/** Requests the local KMS endpoint has received per operation (its `GET /local/requests`). */
async function kmsRequests(svc: BenchService, operation: string): Promise<number> {
  const answer = (await (await fetch(`${svc.state.endpoints.kms}/local/requests`)).json()) as { operations: Record<string, number> };
  return answer.operations[operation] ?? 0;
}

/**
 * `reads` full `GET /v1/me/entitlements` reads (no `If-None-Match`) spread over `users`
 * premium users, each user's state unchanged: the answer latencies (the first read of each user
 * signs, the others reuse its signature) and the KMS `Sign` calls per 1,000 reads, counted by the
 * local KMS endpoint.
 */
export async function entitlementReads(svc: BenchService, users: number, reads: number) {
  const readers = [];
  for (let i = 0; i < users; i++) readers.push(await svc.user(`entitlements${i}`, 0, "premium"));
  // One read of another user first, so the function's cold start is not counted as signing.
  const warmUp = await svc.user("entitlements-warmup", 0, "premium");
  await svc.request("GET", "/v1/me/entitlements", { token: warmUp.token });
  const before = await kmsRequests(svc, "Sign");
  const first: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < reads; i++) {
    const reader = readers[i % users]!;
    const result = await svc.request("GET", "/v1/me/entitlements", { token: reader.token });
    if (result.status !== 200 || typeof result.json?.signedEntitlements !== "string") throw new Error(`entitlements answered ${result.status} without a signature`);
    (i < users ? first : warm).push(result.ms);
  }
  const signs = (await kmsRequests(svc, "Sign")) - before;
  return { first, warm, signCallsPer1000Reads: (signs * 1_000) / reads };
}
