import type pg from 'pg'
import type { Config } from '../config/config.js'
import type { RoleLogger } from '../events/roles.js'
import { MemoryPackageCache } from '../package/cache-memory.js'
import type { PackageCache, Written } from '../package/ports.js'
import { PostgresPackageRepository } from '../package/postgres.js'
import { PackageService } from '../package/service.js'
import { PostgresTrackingListRepository } from '../package/tracking-list-postgres.js'
import { PostgresStatusUpdateStore } from '../statusupdate/postgres.js'
import { RabbitStatusQueue } from '../statusupdate/queue-rabbitmq.js'
import { StatusUpdateService } from '../statusupdate/service.js'
import { retryPolicy } from './bus.js'

/** The status updates' queue on RabbitMQ at AMQP_URL (or `url`: tests' proxy or vhost). */
export function rabbitStatusQueue(config: Config, opts: { log: RoleLogger; url?: string }): RabbitStatusQueue {
  return new RabbitStatusQueue({ url: opts.url ?? config.AMQP_URL, queueType: config.RABBITMQ_QUEUE_TYPE, partitions: config.STATUS_UPDATE_PARTITIONS, retry: retryPolicy(config), prefetch: config.WORKER_PREFETCH, log: opts.log })
}

export interface StatusApplierDeps {
  /** The package cache the gateways read (Redis), so an applied update is not hidden behind it. */
  cache?: PackageCache
  /** Events written here, for an event path in this process; otherwise the gateways' relays hear of them by NOTIFY. */
  committed?(written: Written): void
  origin?: string
  log: RoleLogger
}

/**
 * The `status-updates` role's service: the same package rules as the status route
 * (a PackageService of its own over the same tables), writing under the update's row lock.
 */
export function statusApplier(config: Config, pool: pg.Pool, deps: StatusApplierDeps): StatusUpdateService {
  const packages = new PackageService({
    packages: new PostgresPackageRepository(pool, { origin: deps.origin }),
    trackings: new PostgresTrackingListRepository(pool, { origin: deps.origin }),
    // Only invalidated here (never read): without Redis a small one of its own.
    cache: deps.cache ?? new MemoryPackageCache({ ttlSeconds: config.CACHE_TTL_S }),
    events: { committed: () => undefined },
    log: deps.log,
  })
  return new StatusUpdateService({
    store: new PostgresStatusUpdateStore(pool, { origin: deps.origin ?? null }),
    rules: (principal, change) => packages.statusDecision(principal, change),
    committed: (written) => {
      packages.committed(written)
      deps.committed?.(written)
    },
    log: deps.log,
  })
}
