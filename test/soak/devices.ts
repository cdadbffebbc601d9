import { policyFor, type Tier } from "@paysync/core/tiers";
import type { Answer, SoakService } from "./service.js";

/**
 * The devices of the soak: each pushes new ops of mixed priorities in small batches, now and
 * then re-pushes an op it already sent (a duplicate) or the same request twice at once, pulls,
 * and retries as a real device does: the same opIds after a 5xx or no answer, the refused ops
 * after `Retry-After` on a limit. Every op and what the service said of it goes to the ledger.
 */
export interface SoakUser {
  userId: string;
  userKey: string;
  token: string;
  tier: Tier;
  deviceIds: string[];
}

/** What the service said of an op, in the end. `uncertain`: never a definite answer. */
export type OpFate = "accepted" | "rejected" | "uncertain";

export interface LedgerOp {
  opId: string;
  user: SoakUser;
  deviceId: string;
  entityType: string;
  entityId: string;
  crisis: boolean;
  fate: OpFate;
}

export interface SoakStats {
  pushes: number;
  pulls: number;
  /** 5xx answers, each retried. */
  serverErrors: number;
  /** No answer within 30 s, or the connection refused or reset: retried. */
  noAnswer: number;
  /** Answers by status and, for 5xx, message (0: none), pushes and pulls alike. */
  statuses: Record<string, number>;
  limited: number;
  duplicatesAnswered: number;
  doubleSends: number;
  violations: string[];
}

interface OpKind {
  entityType: string;
  weight: number;
  /** Applied in the request and sent to every device whatever the tier (priority 9-10). */
  crisis: boolean;
  payload: (opId: string, n: number) => unknown;
}

const plain = (opId: string, n: number) => ({ opId, n, note: `soak ${n}` });
const KINDS: OpKind[] = [
  { entityType: "check_in", weight: 4, crisis: false, payload: plain },
  { entityType: "mood_entry", weight: 3, crisis: false, payload: plain },
  { entityType: "history", weight: 2, crisis: false, payload: plain },
  { entityType: "user_profile", weight: 1, crisis: false, payload: plain },
  { entityType: "premium_content", weight: 1, crisis: false, payload: plain },
  { entityType: "therapeutic_session", weight: 2, crisis: false, payload: plain },
  { entityType: "breathing_session", weight: 1, crisis: false, payload: plain },
  { entityType: "assessment", weight: 1, crisis: false, payload: () => ({ instrument: "GAD-7", answers: [0, 1, 0, 1, 0, 0, 1] }) },
  // PHQ-9 total 21: crisis class 9, and crisis mode on.
  { entityType: "assessment", weight: 0.3, crisis: true, payload: () => ({ instrument: "PHQ-9", answers: [3, 3, 3, 3, 3, 3, 3, 0, 0] }) },
  { entityType: "safety_plan", weight: 0.7, crisis: true, payload: (_id, n) => ({ warningSigns: [`sign ${n}`], copingStrategies: ["walk"] }) },
  { entityType: "emergency_contacts", weight: 0.5, crisis: true, payload: (_id, n) => ({ contacts: [{ name: `Contact ${n}` }] }) },
];
const TOTAL_WEIGHT = KINDS.reduce((sum, k) => sum + k.weight, 0);

function pickKind(): OpKind {
  let roll = Math.random() * TOTAL_WEIGHT;
  for (const kind of KINDS) if ((roll -= kind.weight) < 0) return kind;
  return KINDS[0]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ACCEPTED = new Set(["applied", "queued", "duplicate"]);
const LIMIT_RETRIES = 4;

/** Does an accepted op of this kind reach the user's other devices? (SPEC.md §4 cross-device rules.) */
export const fansOut = (op: LedgerOp) => op.crisis || policyFor(op.user.tier).crossDeviceSync;

export class SoakDevices {
  readonly ledger = new Map<string, LedgerOp>();
  readonly stats: SoakStats = { pushes: 0, pulls: 0, serverErrors: 0, noAnswer: 0, statuses: {}, limited: 0, duplicatesAnswered: 0, doubleSends: 0, violations: [] };
  private sequence = 0;
  private budget: number;

  constructor(private readonly svc: SoakService, maxOps: number, private readonly runId: string) {
    this.budget = maxOps;
  }

  /** One device until `loadEnds` or the op budget is spent; retries go on until `giveUpAt`. */
  async run(user: SoakUser, deviceId: string, loadEnds: number, giveUpAt: number, options: { crisisOnly?: boolean } = {}): Promise<void> {
    const sent: LedgerOp[] = [];
    let cursor: string | undefined;
    // Devices come online over the first seconds, not all in the same millisecond.
    await sleep(Math.random() * 5_000);
    while (Date.now() < loadEnds && this.budget > 0) {
      const count = Math.min(this.budget, 1 + Math.floor(Math.random() * 4));
      this.budget -= count;
      const batch = Array.from({ length: count }, () => this.newOp(user, deviceId, options.crisisOnly === true));
      const wire = batch.map((op) => this.wire(op));
      // A duplicate: an op this device sent before, sent again in a new request.
      const earlier = sent.length > 0 && Math.random() < 0.15 ? sent[Math.floor(Math.random() * sent.length)] : undefined;
      if (earlier) wire.push(this.wire(earlier));
      sent.push(...batch);
      await this.push(user, deviceId, wire, giveUpAt, Math.random() < 0.05);
      if (Math.random() < 0.25) cursor = await this.pull(user, deviceId, cursor);
      await sleep(200 + Math.random() * 600);
    }
  }

  private newOp(user: SoakUser, deviceId: string, crisisOnly: boolean): LedgerOp {
    let kind = pickKind();
    while (crisisOnly && !kind.crisis) kind = pickKind();
    const n = ++this.sequence;
    const opId = `op-${this.runId}-${n}`;
    const op: LedgerOp = { opId, user, deviceId, entityType: kind.entityType, entityId: `e-${this.runId}-${n}`, crisis: kind.crisis, fate: "uncertain" };
    this.ledger.set(opId, op);
    this.payloads.set(opId, kind.payload(opId, n));
    return op;
  }

  private readonly payloads = new Map<string, unknown>();

  private wire(op: LedgerOp) {
    return {
      opId: op.opId, entityType: op.entityType, entityId: op.entityId, action: "upsert", baseVersion: 0,
      payload: this.payloads.get(op.opId), clientTime: new Date().toISOString(),
    };
  }

  /** Pushes until every op has a definite answer: 5xx and no answer are retried with the same opIds. */
  private async push(user: SoakUser, deviceId: string, ops: ReturnType<SoakDevices["wire"]>[], giveUpAt: number, doubleSend: boolean) {
    let pending = ops;
    let limitRetries = 0;
    for (let attempt = 0; pending.length > 0 && Date.now() < giveUpAt; attempt++) {
      const send = () => this.svc.request("POST", "/v1/sync/push", { token: user.token, headers: { "x-device-id": deviceId }, body: JSON.stringify({ ops: pending }) });
      this.stats.pushes += 1;
      const answers = doubleSend && attempt === 0 ? await Promise.all([send(), send()]) : [await send()];
      if (answers.length === 2) this.stats.doubleSends += 1;
      let refused: string[] | undefined;
      let retryAfter = 1;
      for (const answer of answers) {
        this.count(answer);
        if (answer.status === 0 || answer.status >= 500) {
          this.fault(answer.status);
          continue;
        }
        const results = (answer.status === 200 ? answer.json?.results : answer.status === 429 ? answer.json?.error?.details?.results : undefined) as
          Array<{ opId: string; status: string }> | undefined;
        if (!results) {
          this.stats.violations.push(`push from ${deviceId} answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 300)}`);
          for (const op of pending) this.settle(op.opId, "rejected");
          return;
        }
        for (const result of results) {
          if (result.status === "duplicate") this.stats.duplicatesAnswered += 1;
          if (ACCEPTED.has(result.status)) this.settle(result.opId, "accepted");
          else if (result.status !== "rejected") this.stats.violations.push(`op ${result.opId}: unexpected status ${result.status}`);
        }
        const rejected = results.filter((r) => r.status === "rejected").map((r) => r.opId);
        refused = refused === undefined ? rejected : refused.filter((id) => rejected.includes(id));
        retryAfter = Math.max(retryAfter, answer.retryAfterSeconds ?? 1);
      }
      if (refused === undefined) {
        await sleep(Math.min(3_000, 200 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
        continue;
      }
      pending = pending.filter((op) => refused.includes(op.opId) && this.ledger.get(op.opId)?.fate !== "accepted");
      if (pending.length === 0) return;
      this.stats.limited += 1;
      if (++limitRetries > LIMIT_RETRIES) {
        for (const op of pending) this.settle(op.opId, "rejected");
        return;
      }
      await sleep(Math.min(retryAfter, 5) * 1_000);
    }
  }

  private count(answer: Answer) {
    const key = answer.status >= 500 ? `${answer.status} ${answer.json?.error?.message ?? answer.json?.message ?? ""}` : String(answer.status);
    this.stats.statuses[key] = (this.stats.statuses[key] ?? 0) + 1;
  }

  private fault(status: number) {
    if (status === 0) this.stats.noAnswer += 1;
    else this.stats.serverErrors += 1;
  }

  /** `accepted` is final: a later `rejected` of the same opId (a re-push) does not undo it. */
  private settle(opId: string, fate: OpFate) {
    const op = this.ledger.get(opId);
    if (op && op.fate !== "accepted") op.fate = fate;
  }

  private async pull(user: SoakUser, deviceId: string, cursor: string | undefined): Promise<string | undefined> {
    this.stats.pulls += 1;
    const answer = await this.svc.request("GET", `/v1/sync/pull?limit=100${cursor ? `&cursor=${cursor}` : ""}`, { token: user.token, headers: { "x-device-id": deviceId } });
    this.count(answer);
    if (answer.status === 0 || answer.status >= 500) this.fault(answer.status);
    else if (answer.status !== 200 && answer.status !== 429) this.stats.violations.push(`pull by ${deviceId} answered ${answer.status}`);
    return answer.status === 200 ? (answer.json?.cursor as string) : cursor;
  }
}
