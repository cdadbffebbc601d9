import { z } from "zod";

/**
 * An accepted op on its way through a lane. Only pseudonymous keys and device-chosen ids
 * travel in the clear; the payload is envelope-encrypted before it is enqueued.
 */
export const SyncOpMessageSchema = z.object({
  v: z.literal(1),
  userKey: z.string().min(1),
  deviceId: z.string().min(1),
  devicePriority: z.number().int().min(0),
  opId: z.string().min(1),
  entityType: z.string().min(1),
  entityId: z.string().min(1),
  action: z.enum(["upsert", "delete"]),
  baseVersion: z.number().int().min(0),
  clientTime: z.string(),
  priority: z.number().int().min(1).max(10),
  payloadCipher: z.string().nullable(),
  conflictResolution: z.enum(["manual", "automatic"]),
  crossDeviceSync: z.boolean(),
  /** The tier (at push) pokes its devices on every change (premium); absent: only on urgent ones. */
  pokeEveryChange: z.boolean().optional(),
  enqueuedAtMs: z.number().int(),
  /** The op holds an offline-queue slot (`PENDING#<opId>`), released when it is applied. */
  pendingSlot: z.boolean().optional(),
});
export type SyncOpMessage = z.infer<typeof SyncOpMessageSchema>;
