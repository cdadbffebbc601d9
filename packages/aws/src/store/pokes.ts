/**
 * The realtime poke sink (`PokeSink`): after a commit, a data-free `{"type":"poke","priority":n}`
 * to every live connection of each target device, through the WebSocket API's management API
 * (`PostToConnection`) — in AWS and, with the same client, on the local gateway. A connection
 * that is gone (`GoneException`) is forgotten; any other failure is logged and dropped: a poke
 * never fails or undoes the write it follows (the device finds the change on its next pull).
 *
 * @example
 * await pokes.poke(userKey, [{ deviceId: "tablet", priority: 10 }]);
 */
import { GoneException, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { DeviceStore, Poke, PokeSink } from "@paysync/core/ports";
import { managementClient } from "../base/clients.js";
import { logger, metrics } from "../base/observability.js";
import type { ConnectionRepository } from "./connections.js";

export class ConnectionPokes implements PokeSink {
  constructor(
    private readonly endpoint: string,
    private readonly connections: ConnectionRepository,
    private readonly devices: DeviceStore,
  ) {}

  async poke(userKey: string, pokes: readonly Poke[]): Promise<void> {
    if (pokes.length === 0) return;
    const priorityOf = new Map(pokes.map((p) => [p.deviceId, p.priority]));
    try {
      const targets = (await this.connections.ofUser(userKey)).filter((c) => priorityOf.has(c.deviceId));
      const reached = new Set<string>();
      let gone = 0;
      await Promise.all(targets.map(async (connection) => {
        const priority = priorityOf.get(connection.deviceId) ?? 1;
        try {
          await managementClient(this.endpoint).send(new PostToConnectionCommand({
            ConnectionId: connection.connectionId,
            Data: new TextEncoder().encode(JSON.stringify({ type: "poke", priority })),
          }));
          reached.add(connection.deviceId);
        } catch (error) {
          if (error instanceof GoneException || (error as Error).name === "GoneException") {
            gone += 1;
            await this.connections.remove(connection);
          } else {
            logger.warn("poke not delivered", { errorName: (error as Error).name });
          }
        }
      }));
      const nowMs = Date.now();
      await Promise.all([...reached].map((deviceId) => this.devices.recordPoke(userKey, deviceId, nowMs)));
      if (reached.size > 0) metrics.addMetric("PokesSent", MetricUnit.Count, reached.size);
      if (gone > 0) metrics.addMetric("PokeConnectionsGone", MetricUnit.Count, gone);
    } catch (error) {
      logger.warn("pokes not sent", { errorName: (error as Error).name });
    }
  }
}
