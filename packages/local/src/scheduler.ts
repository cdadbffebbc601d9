import { randomUUID } from "node:crypto";
import type { ScheduledEvent } from "aws-lambda";
import { JOBS, type JobId } from "@paysync/aws/resources";
import type { FunctionHost } from "./function-host.js";

/** Does one EventBridge cron field (`*`, `?`, `5`, `1-5`, `0/15`, `1,3`) accept `value`? */
function fieldMatches(field: string, value: number): boolean {
  if (field === "*" || field === "?") return true;
  return field.split(",").some((part) => {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    const [startText = "", endText] = range.split("-");
    const start = range === "*" ? 0 : Number(startText);
    const end = endText !== undefined ? Number(endText) : stepText !== undefined ? Number.MAX_SAFE_INTEGER : start;
    return value >= start && value <= end && (value - start) % step === 0;
  });
}

/** Whether an EventBridge schedule expression fires at this UTC minute. */
export function scheduleFires(expression: string, at: Date, startedAt: Date): boolean {
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron?.[1]) {
    const [minute = "*", hour = "*", dayOfMonth = "*", month = "*", dayOfWeek = "*", year = "*"] = cron[1].split(/\s+/);
    return (
      fieldMatches(minute, at.getUTCMinutes()) &&
      fieldMatches(hour, at.getUTCHours()) &&
      fieldMatches(dayOfMonth, at.getUTCDate()) &&
      fieldMatches(month, at.getUTCMonth() + 1) &&
      fieldMatches(dayOfWeek, at.getUTCDay() + 1) &&
      fieldMatches(year, at.getUTCFullYear())
    );
  }
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate?.[1] && rate[2]) {
    const unitMinutes = rate[2].startsWith("minute") ? 1 : rate[2].startsWith("hour") ? 60 : 1440;
    const elapsed = Math.round((at.getTime() - startedAt.getTime()) / 60_000);
    return elapsed > 0 && elapsed % (Number(rate[1]) * unitMinutes) === 0;
  }
  throw new Error(`unsupported schedule expression ${expression}`);
}

export function scheduledEvent(jobId: JobId, at = new Date()): ScheduledEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: "000000000000",
    time: at.toISOString(),
    region: "us-east-1",
    resources: [`arn:aws:events:us-east-1:000000000000:rule/local-paysync-${jobId}`],
    detail: {},
  };
}

/** Runs one job now, through the handler Lambda runs. */
export function runJob(host: FunctionHost, jobId: JobId, at = new Date()): Promise<unknown> {
  return host.invoke(jobId, scheduledEvent(jobId, at));
}

/** EventBridge rules, locally: checks every job's schedule once a minute. */
export function startScheduler(host: FunctionHost, onResult: (jobId: JobId, outcome: "ok" | "failed", error?: unknown) => void): { stop(): void } {
  const startedAt = new Date();
  const running = new Set<JobId>();
  const tick = () => {
    const now = new Date();
    for (const job of Object.values(JOBS)) {
      if (running.has(job.id) || !scheduleFires(job.schedule, now, startedAt)) continue;
      running.add(job.id);
      runJob(host, job.id, now)
        .then(() => onResult(job.id, "ok"))
        .catch((error: unknown) => onResult(job.id, "failed", error))
        .finally(() => running.delete(job.id));
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const align = setTimeout(() => {
    tick();
    timer = setInterval(tick, 60_000);
  }, 60_000 - (Date.now() % 60_000));
  return { stop: () => { clearTimeout(align); if (timer) clearInterval(timer); } };
}
