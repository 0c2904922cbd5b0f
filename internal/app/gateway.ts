import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type pg from 'pg'
import { Registry } from 'prom-client'
import { authentication } from '../auth/authenticate.js'
import { AccountRoles } from '../auth/account-roles.js'
import { ExternalTokenVerifier } from '../auth/external.js'
import { authRoutes } from '../auth/http.js'
import { UserAdminService } from '../auth/user-admin.js'
import { userAdminRoutes } from '../auth/user-admin-http.js'
import { HmacAccessTokenSigner } from '../auth/jwt.js'
import { ScryptHasher } from '../auth/password.js'
import { PostgresRefreshTokenRepository, PostgresServiceClientRepository, PostgresUserRepository } from '../auth/postgres.js'
import { LoginThrottle } from '../auth/login-throttle.js'
import type { LoginAttemptStore } from '../auth/ports.js'
import { AuthService } from '../auth/service.js'
import { passwordProblem } from '../auth/password-policy.js'
import { ConfigError, corsOriginsOf, DEV_JWT_SECRET, trustProxyOf, type Config } from '../config/config.js'
import { packageRoutes } from '../package/http.js'
import { PostgresPackageRepository } from '../package/postgres.js'
import type { PackageCache } from '../package/ports.js'
import { PackageService } from '../package/service.js'
import { PostgresTrackingListRepository } from '../package/tracking-list-postgres.js'
import { healthRoutes, type DependencyCheck } from '../platform/health/http.js'
import { idempotency } from '../platform/http/idempotency.js'
import type { IdempotencyStore } from '../platform/http/idempotency-store.js'
import { registerRateLimit } from '../platform/http/rate-limit.js'
import type { RateLimitStoreFactory } from '../platform/http/rate-limit-store.js'
import { createServer } from '../platform/http/server.js'
import { projectRoot } from '../platform/paths.js'
import websocket from '@fastify/websocket'
import type { Bus } from '../events/bus.js'
import { PostgresEventLog } from '../events/log-postgres.js'
import { ACCESS_CHANNEL, listenForNotices, parseAccessNotice } from '../platform/db/notices.js'
import { PostgresOutbox } from '../events/outbox-postgres.js'
import { EventPath } from '../events/path.js'
import { OutboxRelay } from '../events/relay.js'
import { metricsRoutes, statsRoutes } from '../ops/http.js'
import { requestMetrics } from '../ops/request-metrics.js'
import { PostgresCarrierSyncReader } from '../carrier/sync-reads-postgres.js'
import { isKnownCarrier } from '../carrier/slugs.js'
import { PostgresCarrierAdminStore } from '../carrier/admin-postgres.js'
import { CarrierAdmin } from '../carrier/admin-service.js'
import { carrierAdminRoutes, carrierWebhookRoutes } from '../carrier/http.js'
import { providerFromConfig, syncSettingsFromConfig } from '../carrier/provider.js'
import { CarrierWebhooks } from '../carrier/webhooks.js'
import { PostgresPushStore } from '../carrier/webhooks-postgres.js'
import { chartRoutes } from '../charts/http.js'
import { PostgresMetricsReader } from '../charts/postgres-reads.js'
import { ChartsService } from '../charts/service.js'
import { boundedStats } from '../ops/stats.js'
import { RealtimeService } from '../realtime/service.js'
import { trackBudget } from '../realtime/track-budget.js'
import { tokenExpiry } from '../realtime/token-expiry.js'
import { newWsCounters, wsRoutes, type WsCounters } from '../realtime/ws.js'
import type { Timers } from '../platform/timers.js'
import { proofStorageOrigins, proofStoreOf } from './proofs.js'
import { Breakers, breakerSettingsOf } from '../platform/resilience.js'
import { webConsole } from './web-console.js'
import { DnsAddressGuard } from '../webhook/address-guard.js'
import { webhookRoutes } from '../webhook/http.js'
import { PostgresWebhookRepository } from '../webhook/postgres.js'
import { WebhookService } from '../webhook/service.js'
import { apiKeyAuthentication } from '../device/api-key.js'
import { deviceRoutes } from '../device/http.js'
import { PostgresDeviceRepository, PostgresPackageLookup } from '../device/postgres.js'
import { DeviceService } from '../device/service.js'
import { locationRoutes } from '../location/http.js'
import { MongoLocationRepository } from '../location/mongo.js'
import { PostgresLastLocationStore, PostgresLocationRepository, PostgresPackageDirectory } from '../location/postgres.js'
import { LocationService } from '../location/service.js'
import type { Mongo } from '../platform/mongo/client.js'
import { deliveryRoutes } from '../delivery/http.js'
import { PostgresAssignmentRepository } from '../delivery/postgres.js'
import { AssignmentService } from '../delivery/service.js'
import { inboxRoutes } from '../inbox/http.js'
import { PostgresNotificationRepository } from '../inbox/postgres.js'
import { InboxService } from '../inbox/service.js'
import { proofRoutes } from '../proof/http.js'
import { PostgresProofRepository } from '../proof/postgres.js'
import { ProofService } from '../proof/service.js'

import type { QueuedUpdate } from '../statusupdate/domain.js'
import { statusUpdateRoutes } from '../statusupdate/http.js'
import { PostgresStatusUpdateStore } from '../statusupdate/postgres.js'
import type { StatusUpdateQueue } from '../statusupdate/ports.js'
import { MemoryStatusQueue } from '../statusupdate/queue-memory.js'
import { StatusUpdateService } from '../statusupdate/service.js'

export interface GatewayDeps {
  config: Config
  /** This process's id: it names the hub queue and marks the events this gateway records. */
  instanceId: string
  pool: pg.Pool
  /** Where short-lived state lives: Redis (shared by every gateway) or memory (one process alone). */
  stores: GatewayStores
  bus: Bus
  /** The outbox may LISTEN for other writers on a connection of its own (not on PGlite's single one). */
  outboxListen?: boolean
  /** /health/ready's checks, one per part the gateway runs on (see checks.ts and infrastructure.ts). */
  checks: Record<string, DependencyCheck>
  /** Reported by /health/ready: `embedded` when everything runs in this one process. */
  mode?: 'services' | 'embedded'
  /** MongoDB for location history (MONGO_URL); without it locations live in PostgreSQL. */
  mongo?: Mongo
  logger?: FastifyServerOptions['logger']
  /** More figures for /metrics from this process (the carriers role when it runs here). */
  registries?: Registry[]
  /** This process's breakers around outside calls (shared with worker roles run here); default its own. */
  breakers?: Breakers
  /** The WebSocket limits' clock and timers (token expiry, message rate); tests move it by hand. */
  wsClock?: Timers
  /**
   * Where posted status updates go (RabbitMQ, or the embedded mode's in-process
   * queue, which this gateway then applies itself). None: they wait in PostgreSQL
   * for a gateway that has one.
   */
  statusQueue?: StatusUpdateQueue
}

export interface GatewayStores {
  cache: PackageCache & { readonly counters: CacheCounters }
  rateLimit: RateLimitStoreFactory
  idempotency: IdempotencyStore
  /** Sign-in attempts per account, so the login throttle holds across gateways. */
  loginAttempts: LoginAttemptStore
}

export interface CacheCounters {
  hits: number
  misses: number
}

export interface Gateway {
  app: FastifyInstance
  auth: AuthService
  packages: PackageService
  realtime: RealtimeService
  relay: OutboxRelay
  events: EventPath
  devices: DeviceService
  locations: LocationService
  assignments: AssignmentService
  proofs: ProofService
  statusUpdates: StatusUpdateService
  /** Hands posted status updates to the queue (none without a statusQueue). */
  statusRelay?: OutboxRelay<QueuedUpdate>
  cacheCounters: CacheCounters
  /** What the WebSocket limits did (closed, refused, the deepest message queue). */
  wsCounters: WsCounters
}

const ISSUER = 'delivertrack'

/**
 * What the configuration schema cannot check because the rule lives in a domain:
 * a first-admin password the password policy refuses stops the start, before any
 * connection is made, instead of failing at the first sign-in. Throws ConfigError.
 */
export function checkGatewayConfig(config: Config): void {
  const weak = config.ADMIN_PASSWORD === undefined ? undefined : passwordProblem(config.ADMIN_PASSWORD)
  if (weak) throw new ConfigError(`Invalid environment variable ADMIN_PASSWORD: ${weak} (see docs/security.md)`)
}

/**
 * The composition root of the gateway: adapters over the given clients, the
 * services over the adapters, and the HTTP app over the services. The caller owns
 * (and closes) the clients.
 */
export async function buildGateway({ config, instanceId, pool, stores, bus, outboxListen = true, checks, mode, mongo, logger, wsClock, registries = [], breakers = new Breakers(breakerSettingsOf(config)), statusQueue }: GatewayDeps): Promise<Gateway> {
  const root = projectRoot()
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
  const app = await createServer({ logLevel: config.LOG_LEVEL, bodyLimit: config.BODY_LIMIT_BYTES, version, logger, trustProxy: trustProxyOf(config.TRUST_PROXY), corsOrigins: corsOriginsOf(config.CORS_ORIGINS), storageOrigins: proofStorageOrigins(config, mode) })

  const secret = config.JWT_SECRET ?? DEV_JWT_SECRET
  if (!config.JWT_SECRET) app.log.warn('JWT_SECRET is not set: using the development secret (never do this in production)')

  const users = new PostgresUserRepository(pool, { origin: instanceId })
  // REST tokens and socket subscriptions check the same remembered roles.
  const accountRoles = new AccountRoles((id) => users.roleOf(id))
  const auth = new AuthService({
    users,
    refreshTokens: new PostgresRefreshTokenRepository(pool),
    serviceClients: new PostgresServiceClientRepository(pool),
    hasher: new ScryptHasher(config.PASSWORD_SCRYPT_COST),
    signer: new HmacAccessTokenSigner(secret, config.JWT_ACCESS_TTL_S, ISSUER),
    refreshTtlSeconds: config.REFRESH_TTL_S,
    throttle: new LoginThrottle(stores.loginAttempts, { log: app.log }),
  })
  const external =
    config.JWT_PUBLIC_KEY || config.JWT_JWKS_URL
      ? new ExternalTokenVerifier({ publicKey: config.JWT_PUBLIC_KEY, jwksUrl: config.JWT_JWKS_URL, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, roleClaim: config.JWT_ROLE_CLAIM })
      : undefined

  const eventLog = new PostgresEventLog(pool)
  const trackings = new PostgresTrackingListRepository(pool, { origin: instanceId })
  const realtime = new RealtimeService({
    access: {
      readableSeq: async (principal, tn) => (await packages.current(principal, tn)).seq,
      publicSeq: async (tn) => (await packages.current(undefined, tn)).seq,
      currentRole: (id, fresh) => (fresh ? users.roleOf(id) : accountRoles.role(id)),
    },
    eventLog,
    audience: trackings,
    log: app.log,
  })
  // Accounts changed or deleted, here or (by notice) on another gateway: sockets re-checked, cached roles forgotten.
  const accountChanged = (id: string) => {
    accountRoles.forget(id)
    void realtime.userChanged(id)
  }
  const userAdmin = new UserAdminService({ users, access: { userChanged: accountChanged } })
  if (outboxListen) {
    // Other gateways' account changes; after a broken connection, whatever was missed is re-checked.
    let stopListening: (() => Promise<void>) | undefined
    app.addHook('onReady', async () => {
      stopListening = await listenForNotices(pool, ACCESS_CHANNEL, {
        notice: (payload) => {
          const notice = parseAccessNotice(payload)
          if (notice && notice.origin !== instanceId) accountChanged(notice.userId)
        },
        resumed: () => {
          accountRoles.forgetAll()
          void realtime.access.recheckAll()
        },
        log: app.log,
      })
    })
    app.addHook('onClose', async () => stopListening?.())
  }
  const relay = new OutboxRelay({ outbox: new PostgresOutbox(pool, { listen: outboxListen, log: app.log }), bus, log: app.log })
  const events = new EventPath({ instanceId, bus, relay, log: eventLog, sink: realtime, logger: app.log })
  app.addHook('onReady', async () => events.start())
  app.addHook('onClose', async () => events.stop())

  const cache = stores.cache
  const packageRepository = new PostgresPackageRepository(pool, { origin: instanceId })
  const proofRepository = new PostgresProofRepository(pool, { origin: instanceId })
  const assignmentRepository = new PostgresAssignmentRepository(pool, { origin: instanceId })
  const packages: PackageService = new PackageService({
    createOffered: (change, driverId, assignedBy) => assignmentRepository.createOffered(change, driverId, assignedBy),
    packages: packageRepository,
    trackings,
    cache,
    log: app.log,
    events,
    deliveryProofs: config.PROOF_REQUIRED_FOR_DELIVERED ? { has: (id) => proofRepository.hasProof(id) } : undefined,
    carrierSync: new PostgresCarrierSyncReader(pool),
    knownCarrier: isKnownCarrier,
  })
  app.addHook('onClose', async () => packages.cache.close())
  const proofs = new ProofService({
    store: proofStoreOf(app, config, mode, breakers),
    proofs: proofRepository,
    packages: {
      readable: (principal, tn) => packages.getFull(principal, tn),
      committed: (tn, written) => {
        packages.cache.invalidate(tn)
        events.committed(written)
      },
    },
    maxBytes: config.PROOF_MAX_BYTES,
  })

  const devices = new DeviceService({ devices: new PostgresDeviceRepository(pool), packages: new PostgresPackageLookup(pool) })
  const locations = new LocationService({
    locations: mongo ? await MongoLocationRepository.open(mongo.db) : new PostgresLocationRepository(pool),
    lastLocation: mongo ? new PostgresLastLocationStore(pool) : undefined,
    packages: { readable: async (principal, tn) => packages.getFull(principal, tn) },
    directory: new PostgresPackageDirectory(pool),
    invalidate: (tn) => packages.cache.invalidate(tn),
    deviceSeen: (device) => devices.seen(device),
    live: (event) => events.live(event),
    liveMaxPerSecond: config.LOCATION_LIVE_MAX_PER_S,
    log: app.log,
  })
  app.addHook('onClose', async () => locations.close())
  const assignments = new AssignmentService({
    assignments: assignmentRepository,
    committed: (written) => packages.committed(written),
    ingest: (source, points, actor) => locations.ingestFrom({ packageId: source.packageId, trackingNumber: source.trackingNumber, sourceId: source.assignmentId, actor }, points),
  })
  const carrierSettings = syncSettingsFromConfig(config)
  const carrierAdmin = new CarrierAdmin({
    store: new PostgresCarrierAdminStore(pool, { leaseS: config.TRACKING_LEASE_S }),
    settings: { dailyBudget: config.TRACKING_DAILY_BUDGET, reservePct: config.TRACKING_RATE_BUFFER, cleanupIntervalS: config.TRACKING_CLEANUP_INTERVAL },
  })
  // Pushes are taken for the provider CARRIER_PROVIDER names (none when unset: every push is 404).
  const pushProvider = providerFromConfig(config)
  const carrierWebhooks = new CarrierWebhooks({
    providers: pushProvider ? [pushProvider] : [],
    store: new PostgresPushStore(pool, { origin: instanceId }),
    settings: carrierSettings,
    applied: (tn, written) => {
      packages.cache.invalidate(tn)
      packages.committed(written)
    },
  })
  const statusStore = new PostgresStatusUpdateStore(pool, { origin: instanceId })
  const statusRelay = statusQueue ? new OutboxRelay<QueuedUpdate>({ outbox: statusStore, bus: statusQueue, log: app.log }) : undefined
  const statusUpdates = new StatusUpdateService({
    store: statusStore,
    rules: (principal, change) => packages.statusDecision(principal, change),
    committed: (written) => void packages.committed(written),
    queued: () => statusRelay?.kick(),
  })
  // Embedded: this process is the status-updates worker too.
  if (statusQueue instanceof MemoryStatusQueue) statusQueue.attach(async (message) => void (await statusUpdates.apply(message)))
  if (statusRelay) {
    app.addHook('onReady', async () => {
      if (statusQueue instanceof MemoryStatusQueue) await statusStore.unpublishQueued()
      await statusRelay.start()
    })
    app.addHook('onClose', async () => {
      await statusRelay.stop()
      if (statusQueue instanceof MemoryStatusQueue) await statusQueue.idle()
    })
  }
  const inbox = new InboxService({ notifications: new PostgresNotificationRepository(pool) })
  const webhooks = new WebhookService({ repo: new PostgresWebhookRepository(pool), guard: DnsAddressGuard.fromList(config.WEBHOOK_ALLOWED_HOSTS) })
  // Bounded: /stats and /metrics answer in time even when PostgreSQL or the broker hangs.
  const stats = boundedStats({
    packages: () => packageRepository.countByStatus(),
    outbox: () => eventLog.outbox(),
    queues: (timeoutMs) => bus.queueStats(timeoutMs),
    local: () => {
      const rt = realtime.stats()
      return { websocket: { connections: rt.connections, subscriptions: rt.subscriptions }, published: relay.published, delivered: rt.delivered, cache: { ...cache.counters } }
    },
    log: app.log,
  })

  await registerRateLimit(app, { store: stores.rateLimit, max: config.RATE_LIMIT_MAX })
  await app.register(websocket, {
    options: { maxPayload: 64 * 1024 },
    // Tell clients why they are being closed (1001 going away), so they reconnect elsewhere and resume.
    preClose(done) {
      for (const client of this.websocketServer.clients) client.close(1001, 'server shutting down')
      this.websocketServer.close(() => done())
    },
  })
  // First, so its hook times every route registered after it.
  const requests = new Registry()
  await app.register(requestMetrics, { registry: requests })
  await app.register(healthRoutes, { checks, mode })
  await app.register(metricsRoutes, { stats, statusWrites: () => packageRepository.statusWriter.counters, registries: [requests, breakers.registry, ...registries] })
  const wsCounters = newWsCounters()
  await app.register(async (api) => {
    await api.register(authentication, { secret, issuer: ISSUER, external, auth, accounts: accountRoles })
    await api.register(apiKeyAuthentication, { devices })
    await api.register(idempotency, { store: stores.idempotency, secret: config.IDEMPOTENCY_SECRET ?? secret, fingerprintSeconds: config.ORDER_FINGERPRINT_S })
    await api.register(healthRoutes, { checks, mode })
    await api.register(authRoutes, { auth })
    await api.register(userAdminRoutes, { users: userAdmin })
    await api.register(packageRoutes, { packages, trackMaxAgeS: config.TRACK_MAX_AGE_S, trackRateLimit: config.RATE_LIMIT_TRACK_MAX })
    await api.register(deviceRoutes, { devices })
    await api.register(proofRoutes, { proofs })
    await api.register(locationRoutes, { locations })
    await api.register(deliveryRoutes, { assignments })
    await api.register(statsRoutes, { stats })
    await api.register(chartRoutes, { charts: new ChartsService({ reader: new PostgresMetricsReader(pool) }) })
    await api.register(webhookRoutes, { webhooks })
    await api.register(carrierAdminRoutes, { admin: carrierAdmin })
    await api.register(carrierWebhookRoutes, { webhooks: carrierWebhooks })
    await api.register(inboxRoutes, { inbox })
    await api.register(statusUpdateRoutes, { updates: statusUpdates })
    await api.register(wsRoutes, {
      realtime,
      // The token is read for its exp only after authenticateToken has accepted it.
      authenticate: async (token) => ({ principal: await api.authenticateToken(token), expiresAt: tokenExpiry(token) }),
      heartbeatMs: config.WS_HEARTBEAT_MS,
      maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
      maxConnectionsPerIp: config.WS_MAX_CONNECTIONS_PER_IP,
      messageBurst: config.WS_MESSAGE_BURST,
      messagesPerSecond: config.WS_MESSAGES_PER_S,
      maxQueuedMessages: config.WS_MAX_QUEUED_MESSAGES,
      trackBudget: trackBudget(stores.rateLimit, '/api/v1/track/:trackingNumber', config.RATE_LIMIT_TRACK_MAX),
      clock: wsClock,
      counters: wsCounters,
    })
  }, { prefix: '/api/v1' })

  await app.register(webConsole, { dir: join(root, 'web', 'dist') })

  return { app, auth, packages, realtime, relay, events, devices, locations, assignments, proofs, statusUpdates, statusRelay, cacheCounters: cache.counters, wsCounters }
}

