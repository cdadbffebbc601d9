import { BatchGetCommand } from "@aws-sdk/lib-dynamodb";
import type { BenchService } from "./service.js";
import { pool, timed } from "./stats.js";
import { opRecordKey } from "@paysync/aws/store/keys";

/** Entity types a premium user pushes, by the priority the server gives them. */
export const CLASS_BY_PRIORITY: Record<number, string> = {
  8: "breathing_session", 7: "premium_content", 6: "mood_entry", 5: "preferences", 4: "check_in", 3: "history",
};

type User = Awaited<ReturnType<BenchService["user"]>>;

interface PushedOp {
  user: User;
  opId: string;
}

/** Pushes `count` ops of each given priority, spread over users, `batch` per push. */
export async function pushOps(svc: BenchService, users: User[], priorities: number[], count: number, batch: number, concurrency: number) {
  const pushes: { user: User; ops: Record<string, unknown>[] }[] = [];
  let n = 0;
  for (let i = 0; i < count; i += batch) {
    for (const priority of priorities) {
      const user = users[n++ % users.length] as User;
      const ops = Array.from({ length: Math.min(batch, count - i) }, () => ({
        opId: svc.unique(`p${priority}`), entityType: CLASS_BY_PRIORITY[priority], entityId: svc.unique("e"),
        action: "upsert", baseVersion: 0, payload: { text: "x".repeat(120) }, clientTime: new Date().toISOString(),
      }));
      pushes.push({ user, ops });
    }
  }
  const pushed: PushedOp[] = [];
  const lanes = new Map<number, string>();
  await pool(pushes, concurrency, async ({ user, ops }) => {
    const result = await svc.request("POST", "/v1/sync/push", { token: user.token, headers: { "x-device-id": user.deviceIds[0] ?? "" }, body: { ops } });
    if (result.status !== 200) throw new Error(`push answered ${result.status}: ${JSON.stringify(result.json)}`);
    for (const op of result.json.results as { opId: string; status: string; priority: number; lane: string }[]) {
      if (op.status !== "queued" && op.status !== "applied") throw new Error(`op ${op.status}: ${JSON.stringify(op)}`);
      lanes.set(op.priority, op.lane);
      pushed.push({ user, opId: op.opId });
    }
  });
  return { pushed, lanes };
}

/** Resolves when every pushed op has its op record (applied exactly once by a worker). */
export async function waitApplied(svc: BenchService, pushed: PushedOp[], timeoutMs = 300_000): Promise<void> {
  const table = svc.state.resources.tables.Sync;
  let remaining = pushed;
  const deadline = Date.now() + timeoutMs;
  while (remaining.length > 0) {
    if (Date.now() > deadline) throw new Error(`${remaining.length} ops not applied within ${timeoutMs} ms`);
    const done = new Set<string>();
    for (let i = 0; i < remaining.length; i += 100) {
      const keys = remaining.slice(i, i + 100).map((op) => opRecordKey(op.user.userKey, op.opId));
      const result = await svc.dynamo.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys } } }));
      for (const item of result.Responses?.[table] ?? []) done.add(String(item.sk).slice(3));
    }
    remaining = remaining.filter((op) => !done.has(op.opId));
    if (remaining.length > 0) await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ops per second from the first push to the last op applied, for one lane's priorities. */
export async function laneThroughput(svc: BenchService, users: User[], priorities: number[], count: number): Promise<{ opsPerSecond: number; lane: string }> {
  const [{ pushed, lanes }, ms] = await timed(async () => {
    const result = await pushOps(svc, users, priorities, count, 10, 8);
    await waitApplied(svc, result.pushed);
    return result;
  });
  return { opsPerSecond: pushed.length / (ms / 1000), lane: [...new Set(lanes.values())].join("+") };
}
