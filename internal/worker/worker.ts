import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type pg from 'pg'
import type { SubscriberSessionAsPromised } from 'rascal'
import { PostgresArchiveLedger } from '../archive/postgres.js'
import { ParquetCodec } from '../archive/parquet.js'
import type { ObjectStore } from '../archive/ports.js'
import { S3ObjectStore } from '../archive/s3.js'
import { ArchiveService } from '../archive/service.js'
import type { Config } from '../config/config.js'
import type { Notifier } from '../notify/ports.js'
import { PostgresReceipts } from '../notify/postgres.js'
import { NotifyService } from '../notify/service.js'
import { SnsNotifier } from '../notify/sns.js'
import { parseDelays, parseRoles, workerQueueNames, workerTopology, type Topology, type WorkerRole } from '../platform/bus/worker-topology.js'
import { projectRoot } from '../platform/paths.js'
import { DnsAddressGuard } from '../webhook/address-guard.js'
import { PostgresDeliveryStore } from '../webhook/deliveries-postgres.js'
import { WebhookDispatcher } from '../webhook/dispatch-service.js'
import { GuardedHttpSender } from '../webhook/http-sender.js'
import { BatchConsumer, type BatchBus } from './batch-consumer.js'
import { Consumer } from './consumer.js'
import type { RoleHandler, WorkerLogger } from './delivery.js'

export interface WorkerDeps {
  config: Config
  pool: pg.Pool
  bus: { subscribe(name: string): Promise<SubscriberSessionAsPromised> } & BatchBus
  roles: readonly WorkerRole[]
  log: WorkerLogger & { child?(b: object): WorkerLogger }
  /** Replaces the S3 bucket (tests inject faults); default S3ObjectStore from the config. */
  store?: ObjectStore
  /** Replaces the SNS notifier; default SnsNotifier from the config (undefined when SNS_TOPIC_ARN is unset). */
  notifier?: Notifier
}

/** What the worker and operators see of a role's consumer. */
export type RoleConsumer = Pick<Consumer, 'role' | 'inFlight' | 'counters' | 'start' | 'stop'>

export interface Worker {
  consumers: RoleConsumer[]
  archive?: ArchiveService
  notify?: NotifyService
  webhooks?: WebhookDispatcher
  start(): Promise<void>
  /** Stops consuming, finishes in-flight work and waits for its acknowledgements. */
  stop(): Promise<void>
}

/**
 * The broker topology a worker declares: the work and dead-letter queues of every
 * role in WORKER_QUEUES (as the gateway does), plus delay queues, publications and
 * subscriptions of the roles it runs.
 */
export function workerBusTopology(config: Config, roles: readonly WorkerRole[]): Topology {
  const delaysMs = parseDelays(config.WORKER_RETRY_DELAYS_MS)
  const kept = workerTopology({ roles: parseRoles(config.WORKER_QUEUES), delaysMs })
  const run = workerTopology({ roles, delaysMs, consume: true, prefetch: rolePrefetch(config) })
  // The archive is consumed by a BatchConsumer on a channel of its own, not by a rascal subscription.
  const subscriptions = { ...run.subscriptions }
  delete subscriptions.archive
  return {
    queues: { ...kept.queues, ...run.queues },
    bindings: { ...kept.bindings, ...run.bindings },
    publications: run.publications,
    subscriptions,
  }
}

/** The archive's unacknowledged messages: three batches, so one can fill while two are written (AMQP caps prefetch at 65,535). */
export function archivePrefetch(batchSize: number): number {
  return Math.min(batchSize * 3, 65_535)
}

/** Unacknowledged messages per role. */
function rolePrefetch(config: Config): Record<WorkerRole, number> {
  return { archive: archivePrefetch(config.ARCHIVE_BATCH_SIZE), notify: config.WORKER_PREFETCH, webhooks: config.WORKER_PREFETCH }
}

/** The worker's composition root: one handler per role over its adapters, each run by a Consumer (the archive by a BatchConsumer). */
export function buildWorker(deps: WorkerDeps): Worker {
  const { config, pool, log } = deps
  const delaysMs = parseDelays(config.WORKER_RETRY_DELAYS_MS)
  const retentionMs = config.ARCHIVE_LEDGER_RETENTION_H * 3_600_000
  const worker: Worker = { consumers: [], start, stop }
  const handlers: RoleHandler[] = []
  let s3: S3ObjectStore | undefined
  let sns: SnsNotifier | undefined
  for (const role of deps.roles) {
    const roleLog = log.child?.({ role }) ?? log
    if (role === 'archive') {
      s3 = deps.store ? undefined : S3ObjectStore.fromConfig(config)
      const store = deps.store ?? s3!
      worker.archive = new ArchiveService({
        store,
        ledger: new PostgresArchiveLedger(pool),
        codec: new ParquetCodec(),
        batchSize: config.ARCHIVE_BATCH_SIZE,
        batchAgeMs: config.ARCHIVE_BATCH_AGE_MS,
        retentionMs,
        log: roleLog,
      })
      handlers.push(worker.archive)
    } else if (role === 'notify') {
      sns = 'notifier' in deps ? undefined : SnsNotifier.fromConfig(config)
      worker.notify = new NotifyService({ notifier: 'notifier' in deps ? deps.notifier : sns, receipts: new PostgresReceipts(pool), retentionMs, log: roleLog })
      handlers.push(worker.notify)
    } else {
      const guard = DnsAddressGuard.fromList(config.WEBHOOK_ALLOWED_HOSTS)
      worker.webhooks = new WebhookDispatcher({
        store: new PostgresDeliveryStore(pool),
        sender: new GuardedHttpSender(guard),
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        disable: { failures: config.WEBHOOK_DISABLE_AFTER_FAILURES, seconds: config.WEBHOOK_DISABLE_AFTER_S },
        userAgent: `DeliverTrack-Webhooks/${version()}`,
        log: roleLog,
      })
      handlers.push(worker.webhooks)
    }
  }
  const prefetch = rolePrefetch(config)
  worker.consumers = handlers.map((handler) => {
    const opts = { bus: deps.bus, handler, names: workerQueueNames(handler.role, delaysMs), maxAttempts: config.WORKER_MAX_ATTEMPTS, delaysMs, log: log.child?.({ role: handler.role }) ?? log }
    // The archive takes thousands of events a second: its own channel, acknowledged in bursts.
    return handler.role === 'archive' ? new BatchConsumer({ ...opts, prefetch: prefetch.archive }) : new Consumer(opts)
  })

  async function start(): Promise<void> {
    if (s3) {
      const bucket = await s3.ensureBucket().catch((err: Error) => `unreachable (${err.message})`)
      log.info({ bucket: s3.bucket, state: bucket }, 'archive bucket')
    }
    for (const c of worker.consumers) await c.start()
    log.info({ roles: deps.roles }, 'worker consuming')
  }

  async function stop(): Promise<void> {
    await Promise.all(worker.consumers.map((c) => c.stop()))
    s3?.close()
    sns?.close()
  }
  return worker
}

let cachedVersion: string | undefined
function version(): string {
  cachedVersion ??= (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version
  return cachedVersion
}
