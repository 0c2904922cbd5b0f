import type pg from 'pg'
import type { Config } from '../config/config.js'
import { PostgresAssignmentRepository } from '../delivery/postgres.js'
import { AssignmentService } from '../delivery/service.js'
import { DispatchMetrics } from '../dispatch/metrics.js'
import { PostgresDispatchStore } from '../dispatch/postgres.js'
import { DispatchService } from '../dispatch/service.js'
import type { Bus, RoleConsumer } from '../events/bus.js'
import { RabbitBus } from '../events/bus-rabbitmq.js'
import { IN_PROCESS_WAKEUP, PostgresOutbox } from '../events/outbox-postgres.js'
import { OutboxRelay } from '../events/relay.js'
import type { RoleLogger } from '../events/roles.js'
import type { PackageCache, Written } from '../package/ports.js'
import { DISPATCH_QUEUE, retryPolicy } from './bus.js'

export interface DispatchDeps {
  config: Config
  pool: pg.Pool
  bus: Bus
  log: RoleLogger
  /** The package cache the gateways read, so an offer is not hidden behind it. */
  cache?: PackageCache
  /** Events written here, for an event path in this process (embedded mode). */
  committed?(written: Written): void
  /**
   * Publish its own commits with a relay of its own, kicked after each one (cmd/dispatch;
   * the pool then skips the outbox NOTIFY: DISPATCH_DB_SETTINGS). Otherwise the NOTIFY
   * wakes the gateways' relays, one more hop for an offer on its way to the driver.
   */
  relay?: boolean
  /** This process's id, recorded with the events it writes. */
  origin?: string
  clock?: () => Date
  /** Where its figures are counted (embedded: a registry the gateway's /metrics merges in); default its own. */
  metrics?: DispatchMetrics
}

export interface Dispatch {
  service: DispatchService
  metrics: DispatchMetrics
  consumer?: RoleConsumer
  /** Consumes the queue (the bus must be connected) and starts the sweep. */
  start(): Promise<void>
  /** One sweep now (tests call it with a moved clock). */
  sweep(): Promise<number>
  /** Stops the sweep and the consumer; what was not acknowledged stays queued. */
  stop(): Promise<void>
}

export const dispatchMetrics = () => new DispatchMetrics()

/** Session settings of cmd/dispatch's pool: its relay publishes what it commits, so no NOTIFY (events/outbox-postgres.ts). */
export const DISPATCH_DB_SETTINGS = IN_PROCESS_WAKEUP

/** RabbitMQ at AMQP_URL with dispatch's queue and no hub (it serves no sockets). */
export function dispatchBus(config: Config, opts: { instanceId: string; log: RoleLogger; url?: string }): RabbitBus {
  return new RabbitBus({
    url: opts.url ?? config.AMQP_URL,
    queueType: config.RABBITMQ_QUEUE_TYPE,
    instanceId: opts.instanceId,
    hub: false,
    queues: [DISPATCH_QUEUE],
    retry: retryPolicy(config),
    prefetch: { dispatch: config.WORKER_PREFETCH },
    log: opts.log,
  })
}

/**
 * The dispatch service's composition root: the gateway's assignment service over
 * this process's own pool (no HTTP hop, no credentials), dispatch's store in its own
 * schema, the role on the bus and the timeout sweep.
 */
export async function buildDispatch(deps: DispatchDeps): Promise<Dispatch> {
  const { config, pool, log } = deps
  const metrics = deps.metrics ?? new DispatchMetrics()
  const relay = deps.relay ? new OutboxRelay({ outbox: new PostgresOutbox(pool, { listen: false, log }), bus: deps.bus, log }) : undefined
  const assigner = new AssignmentService({
    assignments: new PostgresAssignmentRepository(pool, { origin: deps.origin }),
    committed: (written) => {
      if (written.events.length === 0) return
      void deps.cache?.invalidate([written.pkg.trackingNumber]).catch((err: Error) => log.warn({ err: err.message }, 'package cache not invalidated'))
      deps.committed?.(written)
      relay?.kick()
    },
    // Dispatch offers work; drivers' positions come through the gateway.
    ingest: () => Promise.reject(new Error('the dispatch service ingests no locations')),
    clock: deps.clock,
  })
  const service = new DispatchService({
    store: await PostgresDispatchStore.open(pool),
    assigner,
    autoAssign: config.DISPATCH_AUTO_ASSIGN,
    acceptTimeoutS: config.DISPATCH_ACCEPT_TIMEOUT_S,
    clock: deps.clock,
    observer: metrics,
    log,
  })
  let timer: NodeJS.Timeout | undefined
  let sweeping: Promise<number> | undefined
  const sweep = () =>
    (sweeping ??= service.sweep().catch((err: Error) => {
      log.warn({ err: err.message }, 'dispatch sweep failed; trying again at the next interval')
      return 0
    }).finally(() => (sweeping = undefined)))
  const dispatch: Dispatch = {
    service,
    metrics,
    async start() {
      await relay?.start()
      dispatch.consumer = await deps.bus.consume(service, { prefetch: config.WORKER_PREFETCH })
      if (config.DISPATCH_AUTO_ASSIGN && !timer) {
        timer = setInterval(() => void sweep(), config.DISPATCH_SWEEP_INTERVAL_MS)
        timer.unref()
      }
      log.info({ autoAssign: config.DISPATCH_AUTO_ASSIGN, acceptTimeoutS: config.DISPATCH_ACCEPT_TIMEOUT_S }, 'dispatch consuming')
    },
    sweep,
    async stop() {
      clearInterval(timer)
      timer = undefined
      await sweeping
      await dispatch.consumer?.stop()
      await relay?.stop()
    },
  }
  return dispatch
}
