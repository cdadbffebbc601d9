/**
 * The composition root: builds every store (the ports of `@paysync/core/ports`) and every
 * service once per cold start, on first use — a function is bound only to the tables, lanes
 * and secrets it needs, so nothing is built before a handler asks for it. Handlers take their
 * services from here and stay thin; services receive their ports through their constructors
 * and never build them; tests build a service on in-memory ports instead.
 *
 * @example
 * const page = await wiring.pullService().pull({ userKey, deviceId, cursor, limit, acceptsGzip, now });
 */
import { auditKeeperSqsClient, signingKmsClient } from "./base/clients.js";
import { config } from "./base/config.js";
import { CrisisService } from "./crisis/crisis-service.js";
import { CrisisTelemetry, measuredCrisisOps } from "./crisis/crisis-telemetry.js";
import { DeferredCrisisWrites } from "./crisis/deferred-writes.js";
import { EntitlementSigner, PublicKeySet, signingKeyId } from "./crypto/entitlement-signer.js";
import { CrisisDirectoryAdmin } from "./crisis/directory-admin.js";
import { PayloadCipher } from "./crypto/envelope.js";
import { kmsSigningBackend } from "./crypto/kms-signing.js";
import { EntitlementSigning } from "./payments/entitlement-signing.js";
import { PaymentApplier, type PaymentPorts } from "./payments/payment-applier.js";
import { configuredPriceTiers } from "./payments/price-tiers-config.js";
import { WebhookIntake } from "./payments/webhook-intake.js";
import { WebhookMessageSchema } from "./payments/webhook-message.js";
import { WebhookProcessor } from "./payments/webhook-processor.js";
import { AuditLog } from "./store/audit-log.js";
import { AuditQueue } from "./store/audit-queue.js";
import { ReadAudit } from "./store/read-audit.js";
import { ChangeFeed } from "./store/change-feed.js";
import { CachedCrisisDirectory, CrisisDirectoryRepository } from "./store/crisis-directory.js";
import { CrisisRegionRepository } from "./store/crisis-region.js";
import { ConnectionRepository } from "./store/connections.js";
import { CustomerLinks } from "./store/customer-links.js";
import { DeviceRepository } from "./store/devices.js";
import { EntityRepository } from "./store/entities.js";
import { LanePublisher, WebhookLane } from "./store/lanes.js";
import { PaymentStateRepository } from "./store/payment-state.js";
import { ConnectionPokes } from "./store/pokes.js";
import { TierReader } from "./store/tier-reader.js";
import { UsageLimits } from "./store/usage-limits.js";
import { WebhookEventLog } from "./store/webhook-event-log.js";
import { ConflictService } from "./sync/conflict-service.js";
import { HandoffService } from "./sync/handoff-service.js";
import { OpApplier } from "./sync/op-applier.js";
import { PullService } from "./sync/pull-service.js";
import { PushService, type PushPorts } from "./sync/push-service.js";
import { RealtimeService } from "./sync/realtime-service.js";
import { SyncTelemetry } from "./sync/sync-telemetry.js";

/** A value built on first use and kept for the life of the container. */
function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

// Stores
const devices = once(() => new DeviceRepository(config.table("Sync")));
const feed = once(() => new ChangeFeed(config.table("Sync")));
const entities = once(() => new EntityRepository(config.table("Sync")));
const limits = once(() => new UsageLimits(config.table("Sync")));
const tiers = once(() => new TierReader(config.table("Payments")));
const lanes = once(() => new LanePublisher((lane) => config.queue(lane)));
// The queue URL is read only when an entry must be kept: a function not bound to it logs the entry instead.
const auditQueue = once(() => new AuditQueue(() => config.queue("Audit"), auditKeeperSqsClient));
const audit = once(() => new AuditLog(config.table("Audit"), { keeper: auditQueue() }));
const readAudit = once(() => new ReadAudit(audit()));
const paymentState = once(() => new PaymentStateRepository(config.table("Payments")));
const customerLinks = once(() => new CustomerLinks(config.table("Payments"), (value) => WebhookMessageSchema.parse(value)));
const webhookEvents = once(() => new WebhookEventLog(config.table("Payments")));
/** The stored crisis directory; crisis calls and pulls read it through a short per-container cache. */
const crisisDirectoryStore = once(() => new CrisisDirectoryRepository(config.table("Sync")));
const crisisDirectory = once(() => new CachedCrisisDirectory(crisisDirectoryStore()));
const crisisRegions = once(() => new CrisisRegionRepository(config.table("Sync")));
const connections = once(() => new ConnectionRepository(config.table("Connections")));
/** Pokes only where the stacks gave the function the WebSocket API's endpoint (the functions that poke). */
const pokes = once(() => {
  const endpoint = config.realtimeEndpoint();
  return endpoint === undefined ? undefined : new ConnectionPokes(endpoint, connections(), devices());
});
/** The function's one payload cipher: its branch-key cache lives as long as the container. */
const cipher = once(() => new PayloadCipher({ keyArn: config.parameter("KMS_KEY_ARN") }));
/** The entitlement signing key: the entitlements function signs with it, the JWKS function publishes it. */
const signingKey = once(() => {
  const keyArn = config.parameter("SIGNING_KEY_ARN");
  return { backend: kmsSigningBackend(signingKmsClient(), keyArn), kid: signingKeyId(keyArn) };
});
/** One per container: its signature cache serves every read of an unchanged state. */
const entitlementSigner = once(() => new EntitlementSigner(signingKey().backend, signingKey().kid));
const publicKeys = once(() => new PublicKeySet(signingKey().backend, signingKey().kid));

// Services
const syncTelemetry = once(() => new SyncTelemetry(audit()));
const crisisTelemetry = once(() => new CrisisTelemetry(audit()));
/**
 * The crisis path's own cipher: a KMS call that hangs must not hold a person in crisis, so
 * its client gives up fast (connect 250 ms, answer 1 s) and tries twice; a failure then is
 * "could not read" (degraded), never "absent".
 */
const crisisCipher = once(() => new PayloadCipher({
  keyArn: config.parameter("KMS_KEY_ARN"),
  kmsClientConfig: { maxAttempts: 2, requestHandler: { connectionTimeout: 250, requestTimeout: 1_000 } },
}));
const crisisService = once(() => new CrisisService({
  feed: feed(), devices: devices(), entities: entities(), cipher: crisisCipher(), pokes: pokes(), deferred: lanes(),
  directory: crisisDirectory(), regions: crisisRegions(),
}));
/** Operators read and write the directory uncached: they see what is stored now. */
const crisisDirectoryAdmin = once(() => new CrisisDirectoryAdmin(crisisDirectoryStore(), audit()));
const deferredCrisisWrites = once(() => new DeferredCrisisWrites(crisisService(), cipher(), audit()));
const opApplier = once(() => new OpApplier({ feed: feed(), devices: devices(), entities: entities(), limits: limits(), pokes: pokes() }));
const pushPorts = once((): PushPorts => ({
  devices: devices(), entities: entities(), limits: limits(), lanes: lanes(), tiers: tiers(), cipher: cipher(),
  crisis: measuredCrisisOps(crisisService(), crisisTelemetry()),
}));
const pushService = once(() => new PushService(pushPorts()));
const pullService = once(() => new PullService({
  feed: feed(), devices: devices(), entities: entities(), limits: limits(), tiers: tiers(), cipher: cipher(), directory: crisisDirectory(),
}));
const conflictService = once(() => new ConflictService({ entities: entities(), applier: opApplier(), cipher: cipher() }));
const handoffService = once(() => new HandoffService({ applier: opApplier(), devices: devices(), entities: entities(), limits: limits(), cipher: cipher() }));
const paymentPorts = once((): PaymentPorts => ({ paymentState: paymentState(), feed: feed(), devices: devices(), entities: entities(), cipher: cipher(), pokes: pokes() }));
const paymentApplier = once(() => new PaymentApplier(paymentPorts()));
const webhookIntake = once(() => new WebhookIntake(webhookEvents(), new WebhookLane(() => config.queue("Webhooks")), () => config.secret("STRIPE_WEBHOOK_SECRET")));
const webhookProcessor = once(() => new WebhookProcessor(configuredPriceTiers, customerLinks(), paymentApplier()));
// Built lazily inside: a missing binding is a signing fault like any other, not a failed read.
const entitlementSigning = once(() => new EntitlementSigning(entitlementSigner));
const realtimeService = once(() => new RealtimeService({ devices: devices(), connections: connections() }));

export const wiring = {
  devices, feed, entities, limits, tiers, lanes, audit, readAudit, paymentState, customerLinks, webhookEvents, cipher, connections, pokes,
  crisisDirectory, crisisDirectoryAdmin,
  syncTelemetry, crisisTelemetry, crisisService, deferredCrisisWrites, opApplier, pushPorts, pushService, pullService, conflictService, handoffService,
  paymentPorts, paymentApplier, webhookIntake, webhookProcessor, realtimeService, entitlementSigner, publicKeys, entitlementSigning,
};
