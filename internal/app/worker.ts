import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type pg from 'pg'
import { PostgresArchiveLedger } from '../archive/postgres.js'
import { ParquetCodec } from '../archive/parquet.js'
import type { ManagedObjectStore, ObjectStore } from '../archive/ports.js'
import { S3ObjectStore } from '../archive/s3.js'
import { ArchiveService } from '../archive/service.js'
import { PostgresCarrierFigures } from '../carrier/figures-postgres.js'
import { CarrierMetrics } from '../carrier/metrics.js'
import { CleanupLoop } from '../carrier/cleanup.js'
import { runCleanupIfDue } from '../carrier/cleanup-postgres.js'
import { CarrierRole } from '../carrier/role.js'
import type { CarrierProvider } from '../carrier/ports.js'
import { providerFromConfig, syncSettingsFromConfig } from '../carrier/provider.js'
import { CarrierSync } from '../carrier/sync-service.js'
import { PostgresTrackingStore } from '../carrier/trackings-postgres.js'
import { PostgresMetricsStore } from '../charts/postgres.js'
import { MetricsRole } from '../charts/role.js'
import { ConfigError, type Config } from '../config/config.js'
import type { Bus, RoleConsumer } from '../events/bus.js'
import type { RoleHandler, RoleLogger } from '../events/roles.js'
import type { WorkerRole } from '../events/topology.js'
import { BusAnnouncer } from '../inbox/announcer-bus.js'
import { PostgresNotificationRepository } from '../inbox/postgres.js'
import { InboxRole } from '../inbox/role-service.js'
import type { Notifier } from '../notify/ports.js'
import type { PackageCache, Written } from '../package/ports.js'
import { PostgresReceipts } from '../notify/postgres.js'
import { NotifyService } from '../notify/service.js'
import { SnsNotifier } from '../notify/sns.js'
import { projectRoot } from '../platform/paths.js'
import { Breakers, breakerSettingsOf } from '../platform/resilience.js'
import { DnsAddressGuard } from '../webhook/address-guard.js'
import { PostgresDeliveryStore } from '../webhook/deliveries-postgres.js'
import { WebhookDispatcher } from '../webhook/dispatch-service.js'
import { GuardedHttpSender } from '../webhook/http-sender.js'
import type { RabbitStatusQueue, StatusConsumer } from '../statusupdate/queue-rabbitmq.js'
import { rolePrefetch } from './bus.js'
import { statusApplier, type StatusApplierDeps } from './status-updates.js'
import type { OwnQueueRole, PollerRole } from './worker-roles.js'

export interface WorkerDeps {
  config: Config
  pool: pg.Pool
  bus: Bus
  roles: readonly WorkerRole[]
  log: RoleLogger & { child?(b: object): RoleLogger }
  /** Replaces the S3 bucket (the embedded mode's files, tests' faults); default S3ObjectStore from the config. */
  store?: ObjectStore | ManagedObjectStore
  /** Replaces the SNS notifier; default SnsNotifier from the config (undefined when SNS_TOPIC_ARN is unset). */
  notifier?: Notifier
  /** Roles that poll PostgreSQL rather than consume a queue (`carriers`). */
  pollers?: readonly PollerRole[]
  carriers?: CarrierDeps
  /** Roles with a queue of their own (`status-updates`), on `statusQueue`. */
  ownQueues?: readonly OwnQueueRole[]
  statusQueue?: RabbitStatusQueue
  statusUpdates?: Omit<StatusApplierDeps, 'log'>
  /** This process's breakers around outside calls (the gateway's, when the roles run inside it); default the worker's own. */
  breakers?: Breakers
}

/** What the carriers role needs beside the pool. */
export interface CarrierDeps {
  /** The package cache the gateways read, so a check's news is not hidden behind it. */
  cache?: PackageCache
  /** Events written here, for an event path in this process (embedded mode). */
  committed?(written: Written): void
  /** Replaces the provider CARRIER_PROVIDER names (tests). */
  provider?: CarrierProvider
  clock?: () => Date
  random?: () => number
  /** This process's id, recorded with the events it writes. */
  origin?: string
  /** Where the role's calls, budget and breaker are counted; default a registry of its own (worker.carrierMetrics). */
  metrics?: CarrierMetrics
}

export interface Worker {
  consumers: RoleConsumer[]
  archive?: ArchiveService
  /** The archive role's object store, for /health/ready. */
  archiveStore?: ObjectStore
  notify?: NotifyService
  webhooks?: WebhookDispatcher
  inbox?: InboxRole
  metrics?: MetricsRole
  carriers?: CarrierRole
  carrierSync?: CarrierSync
  /** The carriers role's figures, for /metrics and /health/ready. */
  carrierMetrics?: CarrierMetrics
  /** The carriers role's cleanup: final trackings deactivated, old log rows pruned. */
  carrierCleanup?: CleanupLoop
  /** The status-updates role's consumption (once started). */
  statusUpdates?: StatusConsumer
  /** The breakers of every outside call the roles make (webhook endpoints, SNS, S3, the carrier provider), for /metrics. */
  breakers: Breakers
  /** Starts consuming every role's queue (the bus, and the status queue for its role, must be connected). */
  start(): Promise<void>
  /** Starts the poller roles, which need no broker. */
  startPollers(): void
  /** Stops consuming, finishes in-flight work and settles it; the rest stays queued. */
  stop(): Promise<void>
}

/** The workers' composition root: one handler per role over its adapters, each consuming its queue on the bus. */
export function buildWorker(deps: WorkerDeps): Worker {
  const { config, pool, log } = deps
  const retentionMs = config.ARCHIVE_LEDGER_RETENTION_H * 3_600_000
  const breakers = deps.breakers ?? new Breakers(breakerSettingsOf(config))
  const worker: Worker = { consumers: [], breakers, start, startPollers, stop }
  const handlers: RoleHandler[] = []
  let managed: ManagedObjectStore | undefined
  let owned: S3ObjectStore | undefined
  let sns: SnsNotifier | undefined
  const roleLog = (role: string) => log.child?.({ role }) ?? log
  for (const role of deps.roles) {
    if (role === 'archive') {
      owned = deps.store ? undefined : S3ObjectStore.fromConfig(config, breakers)
      const store = deps.store ?? owned!
      if (isManaged(store)) managed = store
      worker.archiveStore = store
      worker.archive = new ArchiveService({
        store,
        ledger: new PostgresArchiveLedger(pool),
        codec: new ParquetCodec(),
        batchSize: config.ARCHIVE_BATCH_SIZE,
        batchAgeMs: config.ARCHIVE_BATCH_AGE_MS,
        retentionMs,
        log: roleLog(role),
      })
      handlers.push(worker.archive)
    } else if (role === 'notify') {
      sns = 'notifier' in deps ? undefined : SnsNotifier.fromConfig(config, breakers, config.WORKER_PREFETCH)
      worker.notify = new NotifyService({ notifier: 'notifier' in deps ? deps.notifier : sns, receipts: new PostgresReceipts(pool), retentionMs, log: roleLog(role) })
      handlers.push(worker.notify)
    } else if (role === 'inbox') {
      worker.inbox = new InboxRole({ notifications: new PostgresNotificationRepository(pool), announcer: new BusAnnouncer(deps.bus), log: roleLog(role) })
      handlers.push(worker.inbox)
    } else if (role === 'metrics') {
      worker.metrics = new MetricsRole({ store: new PostgresMetricsStore(pool), log: roleLog(role) })
      handlers.push(worker.metrics)
    } else {
      worker.webhooks = new WebhookDispatcher({
        store: new PostgresDeliveryStore(pool),
        sender: new GuardedHttpSender(DnsAddressGuard.fromList(config.WEBHOOK_ALLOWED_HOSTS)),
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        disable: { failures: config.WEBHOOK_DISABLE_AFTER_FAILURES, seconds: config.WEBHOOK_DISABLE_AFTER_S },
        userAgent: `DeliverTrack-Webhooks/${version()}`,
        log: roleLog(role),
        breakers,
      })
      handlers.push(worker.webhooks)
    }
  }
  if (deps.pollers?.includes('carriers')) buildCarriers(worker, deps, roleLog('carriers'))
  const prefetch = rolePrefetch(config)

  function startPollers(): void {
    worker.carriers?.start()
    worker.carrierCleanup?.start()
  }

  async function start(): Promise<void> {
    if (managed) {
      const state = await managed.ensureBucket().catch((err: Error) => `unreachable (${err.message})`)
      log.info({ store: managed.location, state }, 'archive store')
    }
    if (deps.ownQueues?.includes('status-updates')) {
      if (!deps.statusQueue) throw new ConfigError('the status-updates role needs its queue')
      const applier = statusApplier(config, pool, { ...deps.statusUpdates, log: roleLog('status-updates') })
      worker.statusUpdates = await deps.statusQueue.consume(
        async (message) => void (await applier.apply(message)),
        (message, attempts, err) => applier.held(message, attempts, err),
      )
    }
    for (const handler of handlers) {
      const role = handler.role as WorkerRole
      // The archive settles thousands of events at once, when a batch is written: acknowledged a burst at a time.
      worker.consumers.push(await deps.bus.consume(handler, { prefetch: prefetch[role], batched: role === 'archive' }))
    }
    log.info({ roles: deps.roles, pollers: deps.pollers ?? [], ownQueues: deps.ownQueues ?? [] }, 'worker consuming')
  }

  async function stop(): Promise<void> {
    await Promise.all([...worker.consumers.map((c) => c.stop()), worker.carriers?.stop(), worker.carrierCleanup?.stop(), worker.statusUpdates?.stop()])
    owned?.close()
    sns?.close()
  }
  return worker
}

/** The carriers role: the provider CARRIER_PROVIDER names, the budget and schedule of TRACKING_*. */
function buildCarriers(worker: Worker, deps: WorkerDeps, log: RoleLogger): void {
  const { config, pool } = deps
  const opts = deps.carriers ?? {}
  const raw = opts.provider ?? providerFromConfig(config)
  if (!raw) throw new ConfigError('the carriers role needs CARRIER_PROVIDER (aftership, easypost or sandbox)')
  worker.carrierMetrics = opts.metrics ?? carrierMetrics(config, pool, log, opts.clock)
  const provider = worker.carrierMetrics.watch(raw)
  worker.breakers.watch(`carrier:${raw.name}`, () => raw.breakerState())
  const cache = opts.cache
  worker.carrierSync = new CarrierSync({
    store: new PostgresTrackingStore(pool, { origin: opts.origin }),
    provider,
    settings: syncSettingsFromConfig(config),
    clock: opts.clock,
    random: opts.random,
    touched: cache ? (tn) => cache.invalidate([tn]) : undefined,
    committed: opts.committed,
    log,
  })
  worker.carriers = new CarrierRole({ sync: worker.carrierSync, pollIntervalMs: config.TRACKING_POLL_INTERVAL_MS, log })
  worker.carrierCleanup = new CleanupLoop({
    run: (now) => runCleanupIfDue(pool, { now, ttlH: config.TRACKING_CACHE_TTL, intervalS: config.TRACKING_CLEANUP_INTERVAL }),
    intervalMs: config.TRACKING_CLEANUP_INTERVAL * 1000,
    clock: opts.clock,
    log,
  })
}

/** The carriers role's figures over the shared tables (trackings, the day's budget). */
export function carrierMetrics(config: Config, pool: pg.Pool, log: RoleLogger, clock?: () => Date): CarrierMetrics {
  return new CarrierMetrics({ figures: new PostgresCarrierFigures(pool), dailyBudget: config.TRACKING_DAILY_BUDGET, reservePct: config.TRACKING_RATE_BUFFER, clock, log })
}

const isManaged = (store: ObjectStore): store is ManagedObjectStore => 'ensureBucket' in store

let cachedVersion: string | undefined
function version(): string {
  cachedVersion ??= (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version
  return cachedVersion
}
