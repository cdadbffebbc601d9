import { randomBytes } from "node:crypto";
import { BatchWriteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, ScheduledEvent } from "aws-lambda";
import { EMPTY_HEAD, sealEntry, type AuditEntry, type AuditRecord } from "@paysync/core/audit/chain";
import { pseudonymousKey } from "@paysync/core/pii";
import type { useRuntime } from "./runtime.js";
import { auditDayChainKey, auditDayKey, auditEntryKey, jobStateKey, type TableKey } from "@paysync/aws/store/keys";

type Runtime = ReturnType<typeof useRuntime>;

/** A scheduled event at `time`: the jobs take it as their clock. */
export const tick = (time: Date | string): Partial<ScheduledEvent> => ({
  "detail-type": "Scheduled Event", source: "aws.events", time: typeof time === "string" ? time : time.toISOString(), detail: {},
});

/** A Lambda context whose time runs out after `pages` pages: runJob pauses there (`paused`). */
export function lambdaContext(pages = Number.POSITIVE_INFINITY): Context {
  let asked = 0;
  return { getRemainingTimeInMillis: () => (asked++ < pages ? 900_000 : 0) } as unknown as Context;
}

/** An audit record placed at a time of the day (`HH:MM:SS`). */
export type DayRecord = AuditRecord & { at: string };

/** Helpers for the job tests: pseudonymous users, whole audit days written as `appendAudit` lays them out, job state. */
export function jobsHarness(rt: Runtime, year: number) {
  const audit = rt.resources.tables.Audit;
  const put = (Item: Record<string, unknown>) => rt.dynamo.send(new PutCommand({ TableName: audit, Item }));
  let nextDay = Math.floor(Math.random() * 300);

  return {
    userKeyOf: (userId: string) => pseudonymousKey(rt.secrets.pseudonymSecret, userId, "u"),
    newUserKey: () => pseudonymousKey(rt.secrets.pseudonymSecret, `jobs-${randomBytes(8).toString("hex")}`, "u"),

    /** A day of `year` no other test of this file uses (each file passes its own year). */
    uniqueDay(): string {
      return new Date(Date.UTC(year, 0, 1) + (nextDay++ % 365) * 86_400_000).toISOString().slice(0, 10);
    },

    /** A closed day's audit chains, each a list of records, written straight to the table. */
    async writeAuditDay(day: string, chains: DayRecord[][]): Promise<AuditEntry[][]> {
      await put({ ...auditDayKey(day) });
      const written: AuditEntry[][] = [];
      for (const records of chains) {
        const chain = `${day}.${randomBytes(8).toString("hex")}`;
        await put({ ...auditDayChainKey(day, chain), startedAt: `${day}T00:00:00.000Z` });
        let head = EMPTY_HEAD;
        const entries: AuditEntry[] = [];
        for (const { at, ...record } of records) {
          const entry = sealEntry({ ...record, time: `${day}T${at}.000Z` }, { chain, head });
          entries.push(entry);
          head = { seq: entry.seq, hash: entry.hash };
        }
        const items = entries.map((entry) => ({ PutRequest: { Item: { ...auditEntryKey(chain, entry.seq), ...entry } } }));
        await Promise.all(Array.from({ length: Math.ceil(items.length / 25) }, (_, i) =>
          rt.dynamo.send(new BatchWriteCommand({ RequestItems: { [audit]: items.slice(i * 25, i * 25 + 25) } }))));
        written.push(entries);
      }
      return written;
    },

    async auditItem(key: TableKey): Promise<Record<string, any> | undefined> {
      return (await rt.dynamo.send(new GetCommand({ TableName: audit, Key: key, ConsistentRead: true }))).Item;
    },

    /** A job's lease and checkpoint (`runJob` keeps them in the Audit table). */
    async jobState(job: string): Promise<Record<string, any> | undefined> {
      return (await rt.dynamo.send(new GetCommand({ TableName: audit, Key: jobStateKey(job), ConsistentRead: true }))).Item;
    },

    /** Puts a job's state back as it was: what a crash between a page's writes and its checkpoint leaves. */
    async restoreJobState(state: Record<string, any>): Promise<void> {
      await put(state);
    },
  };
}
