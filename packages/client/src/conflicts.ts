/**
 * Manual conflicts (tiers with `conflictResolution: "manual"`): the server keeps both sides and
 * lists them; the app shows them and resolves each once. Resolving updates the local cache at
 * once, because the server does not send the resolving device its own resolution.
 *
 * @example
 * for (const c of await conflicts.refresh()) await conflicts.resolve(c.id, "take_incoming");
 */
import {
  ConflictListResponseSchema, ConflictResolveResponseSchema, type Conflict, type ConflictResolveRequest,
} from "@paysync/core/api";
import type { LocalState } from "./local-state.js";
import type { Transport } from "./transport.js";
import type { JsonValue } from "./types.js";

export type ConflictResolution = ConflictResolveRequest["resolution"];

export class ConflictsManager {
  private list: Conflict[] = [];
  private fetched = false;

  constructor(
    private readonly transport: Transport,
    private readonly state: LocalState,
    private readonly deviceId: string,
    private readonly timeoutMs: number,
    private readonly onChange: (conflicts: readonly Conflict[]) => void,
  ) {}

  /** The conflicts as last fetched. */
  current(): readonly Conflict[] {
    return this.list;
  }

  get everFetched(): boolean {
    return this.fetched;
  }

  async refresh(): Promise<readonly Conflict[]> {
    const answer = await this.transport.request({ method: "GET", path: "/v1/sync/conflicts", headers: { "x-device-id": this.deviceId }, timeoutMs: this.timeoutMs });
    const { conflicts } = ConflictListResponseSchema.parse(answer.body);
    const changed = !this.fetched || JSON.stringify(conflicts) !== JSON.stringify(this.list);
    this.list = conflicts;
    this.fetched = true;
    if (changed) this.onChange(this.list);
    return this.list;
  }

  /** `merge` needs the merged payload; the others take none. */
  async resolve(id: string, resolution: ConflictResolution, payload?: JsonValue): Promise<void> {
    const body = resolution === "merge" ? { resolution, payload } : { resolution };
    const answer = await this.transport.request({
      method: "POST", path: `/v1/sync/conflicts/${encodeURIComponent(id)}/resolve`, headers: { "x-device-id": this.deviceId }, body, timeoutMs: this.timeoutMs,
    });
    const resolved = ConflictResolveResponseSchema.parse(answer.body);
    const conflict = this.list.find((c) => c.id === id);
    if (conflict && resolution !== "keep_current") {
      const incomingDelete = resolution === "take_incoming" && conflict.incoming.action === "delete";
      const value = (resolution === "merge" ? payload : conflict.incoming.payload) ?? null;
      await this.state.setServerVersion(resolved.entityType, resolved.entityId, resolved.version, value as JsonValue, incomingDelete);
    } else if (conflict) {
      await this.state.setServerVersion(conflict.entityType, conflict.entityId, conflict.current.version, conflict.current.payload as JsonValue, false);
    }
    this.list = this.list.filter((c) => c.id !== id);
    this.onChange(this.list);
  }
}
