import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { CrisisDirectoryVersionSchema, type CrisisDirectoryVersion } from "@paysync/core/api/crisis-directory";
import { WriteConditionFailed, type CrisisDirectoryStore } from "@paysync/core/ports";
import { documentClient } from "../base/clients.js";
import { CRISIS_DIRECTORY_CURRENT_KEY, crisisDirectoryVersionKey } from "./keys.js";
import { cancellationCodes, transactWrite } from "./transactions.js";

/**
 * The crisis directory in the Sync table (SPEC.md §4.2): the current version
 * (`CRISIS_DIRECTORY_CURRENT_KEY`) and every version ever stored (`crisisDirectoryVersionKey`),
 * written together in one transaction conditional on the version read, so two operators'
 * updates never both take the same number. The directory is kept as its JSON text: what was
 * validated is what is served, byte for byte.
 *
 * @example
 * const stored = await repository.current();
 * await repository.put({ version: nextDirectoryVersion(stored?.version), updatedAt, directory }, stored?.version);
 */
export class CrisisDirectoryRepository implements CrisisDirectoryStore {
  constructor(private readonly table: string) {}

  async current(): Promise<CrisisDirectoryVersion | undefined> {
    const { Item } = await documentClient().send(new GetCommand({ TableName: this.table, Key: CRISIS_DIRECTORY_CURRENT_KEY, ConsistentRead: true }));
    if (!Item) return undefined;
    return CrisisDirectoryVersionSchema.parse({ version: Item.version, updatedAt: Item.updatedAt, directory: JSON.parse(String(Item.directory)) });
  }

  async put(next: CrisisDirectoryVersion, expectedVersion: number | undefined): Promise<void> {
    const item = { version: next.version, updatedAt: next.updatedAt, directory: JSON.stringify(next.directory) };
    try {
      await transactWrite([
        {
          Put: {
            TableName: this.table, Item: { ...CRISIS_DIRECTORY_CURRENT_KEY, ...item },
            ...(expectedVersion === undefined
              ? { ConditionExpression: "attribute_not_exists(pk)" }
              : { ConditionExpression: "#version = :expected", ExpressionAttributeNames: { "#version": "version" }, ExpressionAttributeValues: { ":expected": expectedVersion } }),
          },
        },
        { Put: { TableName: this.table, Item: { ...crisisDirectoryVersionKey(next.version), ...item }, ConditionExpression: "attribute_not_exists(pk)" } },
      ]);
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.includes("ConditionalCheckFailed")) throw new WriteConditionFailed(codes);
      throw error;
    }
  }
}

/** How long a container serves its copy before reading again: an update reaches every container within this. */
export const DIRECTORY_CACHE_MS = 5_000;

/**
 * The directory as crisis calls and pulls read it: one read per container per
 * {@link DIRECTORY_CACHE_MS} (the item is global and read on every crisis call), concurrent
 * readers sharing it. A failed read is not cached: the next call tries again.
 */
export class CachedCrisisDirectory implements CrisisDirectoryStore {
  private cached: { at: number; value: Promise<CrisisDirectoryVersion | undefined> } | undefined;

  constructor(private readonly store: CrisisDirectoryStore, private readonly clock: () => number = Date.now) {}

  current(): Promise<CrisisDirectoryVersion | undefined> {
    const now = this.clock();
    if (this.cached && now - this.cached.at < DIRECTORY_CACHE_MS) return this.cached.value;
    const value = this.store.current();
    const entry = { at: now, value };
    this.cached = entry;
    value.catch(() => { if (this.cached === entry) this.cached = undefined; });
    return value;
  }

  async put(next: CrisisDirectoryVersion, expectedVersion: number | undefined): Promise<void> {
    await this.store.put(next, expectedVersion);
    this.cached = undefined;
  }
}
