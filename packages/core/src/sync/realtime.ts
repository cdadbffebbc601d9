/**
 * Which committed changes poke their target devices (SPEC.md §4.1 "Realtime"). A poke is
 * data-free: it says "pull now" and, at most, how urgent — never what changed.
 *
 * - every tier: crisis (9–10) and active-session (8) changes, and every server-originated
 *   change (payment state, feature flags, sync policy, the crisis directory);
 * - premium (realtime sync): every change.
 *
 * @example
 * pokesFor(changes, pokesEveryChange(policyFor("free"))); // [{ deviceId: "tablet", priority: 10 }]
 */
import type { TierPolicy } from "../tiers.js";
import { EXEMPT_PRIORITY, isServerOriginated } from "./entities.js";
import { SERVER_ORIGIN } from "./bootstrap.js";

export interface PokedChange {
  entityType: string;
  priority: number;
  originDeviceId: string;
  targetDeviceIds: readonly string[];
}

export interface DevicePoke {
  deviceId: string;
  priority: number;
}

/** Realtime tiers are poked on every change; the others poll, and are poked only for what cannot wait. */
export function pokesEveryChange(policy: TierPolicy): boolean {
  return policy.syncFrequency === "realtime";
}

export function pokeWorthy(change: Omit<PokedChange, "targetDeviceIds">, everyChange: boolean): boolean {
  return everyChange
    || change.priority >= EXEMPT_PRIORITY
    || change.originDeviceId === SERVER_ORIGIN
    || isServerOriginated(change.entityType);
}

/** One poke per target device, at the highest priority among the changes that poke it. */
export function pokesFor(changes: readonly PokedChange[], everyChange: boolean): DevicePoke[] {
  const byDevice = new Map<string, number>();
  for (const change of changes) {
    if (!pokeWorthy(change, everyChange)) continue;
    for (const deviceId of change.targetDeviceIds) byDevice.set(deviceId, Math.max(byDevice.get(deviceId) ?? 0, change.priority));
  }
  return [...byDevice].map(([deviceId, priority]) => ({ deviceId, priority }));
}
