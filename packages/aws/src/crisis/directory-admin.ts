/**
 * Operators' updates of the crisis directory (SPEC.md §4.2): show the current version; set a
 * new one (already validated by the handler with `CrisisDirectorySchema`) as the current
 * version + 1, conditional on the version read, retried when another update won. Every call is
 * audited (`crisis_directory.show` / `.set`, actor `operator`, the version, the line count) —
 * no PII: the directory holds public helplines, and the entry names no person.
 *
 * @example
 * const stored = await admin.set(directory); // { version: 3, updatedAt, directory }
 */
import type { CrisisDirectory, CrisisDirectoryVersion } from "@paysync/core/api/crisis-directory";
import { currentDirectory, nextDirectoryVersion } from "@paysync/core/crisis/directory";
import { WriteConditionFailed, type AuditSink, type CrisisDirectoryStore } from "@paysync/core/ports";
import { errorName, logger } from "../base/observability.js";
import { retrying } from "../base/retry.js";

const lineCount = (directory: CrisisDirectory) =>
  Object.values(directory.regions).reduce((total, lines) => total + lines.length, directory.fallback.length);

export class CrisisDirectoryAdmin {
  constructor(private readonly store: CrisisDirectoryStore, private readonly audit: AuditSink) {}

  /** The current version: the stored one, else the bundled copy. */
  async show(): Promise<CrisisDirectoryVersion> {
    const current = currentDirectory(await this.store.current());
    await this.record("crisis_directory.show", "ok", current);
    return current;
  }

  async set(directory: CrisisDirectory, now = new Date()): Promise<CrisisDirectoryVersion> {
    const next = await retrying({ retryOn: (error) => error instanceof WriteConditionFailed }, async () => {
      const stored = await this.store.current();
      const candidate: CrisisDirectoryVersion = { version: nextDirectoryVersion(stored?.version), updatedAt: now.toISOString(), directory };
      await this.store.put(candidate, stored?.version);
      return candidate;
    });
    await this.record("crisis_directory.set", "ok", next);
    return next;
  }

  /** An operator call that was refused (bad token, bad body): audited too, without what was sent. */
  async refused(action: "show" | "set", code: string): Promise<void> {
    await this.record(`crisis_directory.${action}`, code, undefined);
  }

  private async record(action: string, outcome: string, version: CrisisDirectoryVersion | undefined): Promise<void> {
    try {
      await this.audit.append({
        actor: "operator", action, outcome, entityType: "crisis_directory",
        ...(version ? { version: version.version, count: lineCount(version.directory) } : {}),
      });
    } catch (error) {
      // The update stands; the audit log's own fallback (an error log line) keeps the record.
      logger.error("crisis directory audit not written", { errorName: errorName(error) });
    }
  }
}
