import { NotFoundError } from "@paysync/core/errors";
import type { ConnectionStore, DeviceStore } from "@paysync/core/ports";

export interface RealtimePorts {
  devices: DeviceStore;
  connections: ConnectionStore;
}

/**
 * The realtime socket's lifecycle behind `$connect` and `$disconnect` (the token was verified
 * by the authorizer before): a connection is recorded for a device of the caller only — any
 * other device id is refused exactly like a missing one, so a refusal reveals nothing of other
 * users. What travels on a connection is decided elsewhere (`PokeSink`): pokes, never data.
 *
 * @example
 * await realtime.connect(userKey, "tablet", event.requestContext.connectionId);
 */
export class RealtimeService {
  constructor(private readonly ports: RealtimePorts) {}

  async connect(userKey: string, deviceId: string, connectionId: string, now = new Date()): Promise<void> {
    const device = (await this.ports.devices.list(userKey)).find((d) => d.deviceId === deviceId);
    if (!device) throw new NotFoundError("Device not found");
    await this.ports.connections.open(userKey, deviceId, connectionId, now);
  }

  async disconnect(connectionId: string): Promise<void> {
    await this.ports.connections.close(connectionId);
  }
}
