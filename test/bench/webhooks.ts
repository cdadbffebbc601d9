import { createHash } from "node:crypto";
import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import Stripe from "stripe";
import { subscriptionEvent } from "../helpers/stripe-factories.js";
import type { BenchService } from "./service.js";
import { pool, timed } from "./stats.js";

const stripe = new Stripe("sk_test_bench");

function events(svc: BenchService, count: number) {
  const created = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const customer = `cus_bench${svc.unique("c").replace(/[^A-Za-z0-9]/g, "")}`;
    return subscriptionEvent({
      type: "customer.subscription.updated", status: "active", customer, created: created + i,
      userId: `bench-user-${i}`, priceLookupKey: "premium_monthly", subscriptionId: `sub_bench_${i}`, id: `evt_bench_${svc.unique("e").replace(/[^A-Za-z0-9]/g, "")}`,
    } as Parameters<typeof subscriptionEvent>[0]);
  });
}

/** Signed webhook deliveries per second through the gateway (verify, record, enqueue, answer). */
export async function webhookIngestRate(svc: BenchService, count: number, concurrency: number): Promise<number> {
  const batch = events(svc, count);
  let failures = 0;
  const [, ms] = await timed(() => pool(batch, concurrency, async (event) => {
    const payload = JSON.stringify(event);
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: svc.secrets.stripeWebhookSecret });
    const result = await svc.request("POST", "/webhooks/stripe", { body: payload, headers: { "stripe-signature": signature } });
    if (result.status !== 200) failures++;
  }));
  if (failures > 0) throw new Error(`${failures} webhook deliveries failed`);
  return count / (ms / 1000);
}

/**
 * The same work done raw: one conditional put and one FIFO send per event, same concurrency,
 * to a scratch FIFO queue of the same emulator (nothing consumes it).
 */
export async function rawIngestRate(svc: BenchService, count: number, concurrency: number): Promise<number> {
  const batch = events(svc, count);
  const { QueueUrl } = await svc.sqs.send(new CreateQueueCommand({ QueueName: "bench-raw.fifo", Attributes: { FifoQueue: "true" } }));
  const queueUrl = `${svc.state.endpoints.sqs}${new URL(QueueUrl ?? "").pathname}`;
  const [, ms] = await timed(() => pool(batch, concurrency, async (event) => {
    const id = event.id;
    await svc.dynamo.send(new PutCommand({
      TableName: svc.state.resources.tables.Payments,
      Item: { pk: `RAWEVENT#${id}`, sk: "EVENT", type: event.type, created: event.created },
      ConditionExpression: "attribute_not_exists(pk)",
    }));
    await svc.sqs.send(new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({ bench: true, id }),
      MessageGroupId: createHash("sha256").update(String((event.data.object as { customer?: string }).customer)).digest("hex").slice(0, 32),
      MessageDeduplicationId: createHash("sha256").update(id).digest("hex").slice(0, 64),
    }));
  }));
  return count / (ms / 1000);
}
