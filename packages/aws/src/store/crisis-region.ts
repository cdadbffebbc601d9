import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { RegionCodeSchema, type RegionCode } from "@paysync/core/api/crisis-directory";
import type { CrisisRegionStore } from "@paysync/core/ports";
import { documentClient } from "../base/clients.js";
import { crisisRegionKey } from "./keys.js";

/**
 * The region a user saved for their crisis lines (`PUT /v1/crisis/region`): one item in the
 * user's partition holding a country code and when it was set — a country, no finer place.
 *
 * @example
 * await regions.put(userKey, "GB");
 * await regions.get(userKey); // "GB"
 */
export class CrisisRegionRepository implements CrisisRegionStore {
  constructor(private readonly table: string) {}

  async get(userKey: string): Promise<RegionCode | undefined> {
    const { Item } = await documentClient().send(new GetCommand({ TableName: this.table, Key: crisisRegionKey(userKey), ConsistentRead: true }));
    const parsed = RegionCodeSchema.safeParse(Item?.region);
    return parsed.success ? parsed.data : undefined;
  }

  async put(userKey: string, region: RegionCode, now = new Date()): Promise<void> {
    await documentClient().send(new PutCommand({ TableName: this.table, Item: { ...crisisRegionKey(userKey), region, updatedAt: now.toISOString() } }));
  }
}
