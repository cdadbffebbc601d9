import { SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import Stripe from "stripe";
import { describe, expect, it, vi } from "vitest";
import { lambdaContext } from "@paysync/local/handlers";
import { nowSeconds, paymentsHarness, uid } from "../helpers/payments.js";
import { useRuntime } from "../helpers/runtime.js";
import { checkoutCompletedEvent } from "../helpers/stripe-factories.js";

const rt = useRuntime();
const pay = paymentsHarness(rt);
/** Nothing listens here: every call is refused, as when a dependency is down. */
const DEAD_ENDPOINT = "http://127.0.0.1:1";

type Handler = (event: APIGatewayProxyEventV2WithJWTAuthorizer, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * SQS clients send to the host of the queue URL, which SST reads once per process; so the lane
 * is taken down by sending every SQS call of the handler to a client that can reach nothing.
 */
function laneDown() {
  const dead = new SQSClient({ endpoint: DEAD_ENDPOINT, useQueueUrlAsEndpoint: false, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  const send = SQSClient.prototype.send;
  const spy = vi.spyOn(SQSClient.prototype, "send").mockImplementation((command: any) => Reflect.apply(send, dead, [command]));
  return () => spy.mockRestore();
}

/** The webhook handler in this process, fresh (its SDK clients are per cold start), with `overrides` in its environment. */
async function coldWebhook(overrides: Record<string, string> = {}): Promise<Handler> {
  vi.resetModules();
  Object.assign(process.env, rt.handlerEnv(), overrides);
  return (await import("../../functions/http/stripe-webhook.js")).handler as unknown as Handler;
}

/** The API Gateway (payload v2) event Stripe's POST becomes. */
function apiEvent(payload: string, base64 = false): APIGatewayProxyEventV2WithJWTAuthorizer {
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: rt.secrets.stripeWebhookSecret });
  return {
    version: "2.0", routeKey: "POST /webhooks/stripe", rawPath: "/webhooks/stripe", rawQueryString: "",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body: base64 ? Buffer.from(payload, "utf8").toString("base64") : payload,
    isBase64Encoded: base64,
    requestContext: {
      accountId: "000000000000", apiId: "local", domainName: "localhost", domainPrefix: "local",
      http: { method: "POST", path: "/webhooks/stripe", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "Stripe/1.0" },
      requestId: uid("req"), routeKey: "POST /webhooks/stripe", stage: "$default", time: "", timeEpoch: Date.now(),
      authorizer: { principalId: "", integrationLatency: 0, jwt: { claims: {}, scopes: [] } },
    },
  };
}

function linkEvent() {
  const c = { customer: uid("cus"), userId: uid("user") };
  return { ...c, event: checkoutCompletedEvent({ customer: c.customer, clientReferenceId: c.userId, created: nowSeconds(), id: uid("evt") }) };
}

describe("webhook faults", () => {
  it.each<{ dependency: string; overrides: Record<string, string>; lane: "up" | "down" }>([
    { dependency: "storage", overrides: { AWS_ENDPOINT_URL_DYNAMODB: DEAD_ENDPOINT }, lane: "up" },
    { dependency: "the Webhooks lane", overrides: {}, lane: "down" },
  ])("answers 503 when $dependency is down, leaves nothing behind, and Stripe's retry is applied", async ({ overrides, lane }) => {
    // Prepare
    const { customer, userId, event } = linkEvent();
    const payload = JSON.stringify(event);
    const down = await coldWebhook(overrides);
    const restore = lane === "down" ? laneDown() : () => undefined;

    // Act
    const failed = await down(apiEvent(payload), lambdaContext("StripeWebhook")).finally(restore);
    await pay.laneDrained();
    const leftBehind = { record: await pay.eventRecord(event.id), link: await pay.customerLink(customer) };
    const retried = await pay.post(payload);
    await pay.laneDrained();

    // Assess
    expect(failed.statusCode).toBe(503);
    expect(JSON.parse(String(failed.body)).error.code).toBe("service_unavailable");
    expect(leftBehind).toEqual({ record: undefined, link: undefined });
    expect(retried.status).toBe(200);
    expect(retried.json).toEqual({ received: true, duplicate: false });
    expect((await pay.customerLink(customer))?.userKey).toBe(pay.userKeyOf(userId));
  });

  it("verifies a base64-encoded body, as API Gateway delivers non-text content", async () => {
    // Prepare
    const { customer, userId, event } = linkEvent();
    const webhook = await coldWebhook();

    // Act
    const response = await webhook(apiEvent(JSON.stringify(event), true), lambdaContext("StripeWebhook"));
    await pay.laneDrained();

    // Assess
    expect(response.statusCode).toBe(200);
    expect((await pay.customerLink(customer))?.userKey).toBe(pay.userKeyOf(userId));
  });
});
