import { crisisActivations } from "./crisis.js";
import { startBenchService, type BenchService } from "./service.js";
import { latencyFigure, round } from "./stats.js";

type BenchUser = Awaited<ReturnType<BenchService["user"]>>;

/**
 * The first crisis call after `npm start` against the warm calls that follow it: each repeat
 * starts its own fresh service, so "first" means first after the runtime reported ready.
 */
export async function firstCrisisCall(warmCalls: number): Promise<{ first: number; warm: number[] }> {
  const fresh = await startBenchService();
  try {
    const user = await fresh.user("first-crisis", 1);
    const [first] = await crisisActivations(fresh, user, 1);
    return { first: first ?? Number.NaN, warm: await crisisActivations(fresh, user, warmCalls) };
  } finally {
    await fresh.stop();
  }
}

/**
 * One user's burst (`parallel` activations at once across all their devices) while a second
 * user activates one call after another: the second user's latencies, and the burst's statuses.
 * Crisis mode is resolved first, so every burst starts with a real write.
 */
export async function crisisBurst(svc: BenchService, burster: BenchUser, bystander: BenchUser, parallel: number) {
  const resolved = await svc.request("POST", "/v1/crisis/resolve", { token: burster.token, body: { deviceId: burster.deviceIds[0] } });
  if (resolved.status !== 200) throw new Error(`crisis resolve answered ${resolved.status}`);
  let done = false;
  const bystanderMs: number[] = [];
  const measuring = (async () => {
    while (!done) bystanderMs.push(...(await crisisActivations(svc, bystander, 1)));
  })();
  const burst = await Promise.all(Array.from({ length: parallel }, (_, i) => svc.request("POST", "/v1/crisis/activate", {
    token: burster.token, body: { deviceId: burster.deviceIds[i % burster.deviceIds.length], level: "high", source: "button" },
  })));
  done = true;
  await measuring;
  return { bystanderMs, statuses: burst.map((b) => b.status), slowestBurstMs: Math.max(...burst.map((b) => b.ms)) };
}

/** Issue figures for the crisis kit: first call after start ÷ warm, and a bystander's p99 during a one-user burst ÷ idle. */
export async function crisisKitFigures(svc: BenchService, repeats: number) {
  const firsts: number[] = [];
  const warms: number[][] = [];
  for (let r = 0; r < repeats; r++) {
    const run = await firstCrisisCall(20);
    firsts.push(run.first);
    warms.push(run.warm);
  }
  const burster = await svc.user("burster", 5);
  const bystander = await svc.user("bystander", 1);
  await crisisActivations(svc, bystander, 10);
  const idle: number[][] = [];
  const during: number[][] = [];
  const statuses: number[] = [];
  let slowestBurstMs = 0;
  for (let r = 0; r < repeats; r++) {
    idle.push(await crisisActivations(svc, bystander, 30));
    const samples: number[] = [];
    // Several bursts per repeat, so that the bystander's p99 rests on enough samples.
    for (let b = 0; b < 5; b++) {
      const burst = await crisisBurst(svc, burster, bystander, 50);
      samples.push(...burst.bystanderMs);
      statuses.push(...burst.statuses);
      slowestBurstMs = Math.max(slowestBurstMs, burst.slowestBurstMs);
    }
    during.push(samples);
  }
  const firstFig = latencyFigure([firsts]);
  const warmFig = latencyFigure(warms);
  const idleFig = latencyFigure(idle);
  const duringFig = latencyFigure(during);
  return {
    firstCall: firstFig, warmCall: warmFig, firstToWarm: round(firstFig.median / warmFig.median),
    bystanderIdle: idleFig, bystanderDuringBurst: duringFig,
    burstRatioP99: round(duringFig.p99PerRepeat / idleFig.p99PerRepeat),
    burstCalls: statuses.length, burstNon200: statuses.filter((s) => s !== 200).length, slowestBurstMs: round(slowestBurstMs),
  };
}
