import type { Config } from '../config/config.js'
import type { Bus } from '../events/bus.js'
import { MemoryBus } from '../events/bus-memory.js'
import { RabbitBus } from '../events/bus-rabbitmq.js'
import type { RoleLogger } from '../events/roles.js'
import { parseDelays, parseRoles, ROLE_BINDINGS, type RetryPolicy, type WorkerRole } from '../events/topology.js'

export const retryPolicy = (config: Config): RetryPolicy => ({ delaysMs: parseDelays(config.WORKER_RETRY_DELAYS_MS), maxAttempts: config.WORKER_MAX_ATTEMPTS })

/** The dispatch service's durable queue (`delivertrack.dispatch`, with retries and dead letters like the worker roles'). */
export const DISPATCH_QUEUE = { role: 'dispatch', bindings: ['package.created', 'package.assignment_declined'] } as const

/**
 * The role queues a process declares: those of WORKER_QUEUES (so events wait while
 * no worker runs), those of the roles it runs itself, and dispatch's when
 * DISPATCH_AUTO_ASSIGN is on, so orders placed before dispatch first starts (a
 * rollout starts every process at once) wait for it.
 */
export function declaredQueues(config: Config, running: readonly WorkerRole[] = []): Array<{ role: string; bindings: readonly string[] }> {
  const roles = [...new Set([...parseRoles(config.WORKER_QUEUES), ...running])]
  return [...roles.map((role) => ({ role, bindings: ROLE_BINDINGS[role] })), ...(config.DISPATCH_AUTO_ASSIGN ? [DISPATCH_QUEUE] : [])]
}

/** The archive's unacknowledged messages: three batches, so one can fill while two are written (AMQP caps prefetch at 65,535). */
export function archivePrefetch(batchSize: number): number {
  return Math.min(batchSize * 3, 65_535)
}

/** Unacknowledged messages per role. */
export function rolePrefetch(config: Config): Record<WorkerRole, number> {
  return { archive: archivePrefetch(config.ARCHIVE_BATCH_SIZE), notify: config.WORKER_PREFETCH, webhooks: config.WORKER_PREFETCH, inbox: config.WORKER_PREFETCH, metrics: config.WORKER_PREFETCH }
}

export interface BusChoice {
  instanceId: string
  /** This process has a hub (gateways). */
  hub: boolean
  /** Roles this process consumes. */
  running?: readonly WorkerRole[]
  log: RoleLogger
  /** A broker URL other than AMQP_URL (tests: a proxy in front of it). */
  url?: string
}

/** RabbitMQ at AMQP_URL. */
export function rabbitBus(config: Config, choice: BusChoice): RabbitBus {
  return new RabbitBus({
    url: choice.url ?? config.AMQP_URL,
    queueType: config.RABBITMQ_QUEUE_TYPE,
    instanceId: choice.instanceId,
    hub: choice.hub,
    queues: declaredQueues(config, choice.running),
    retry: retryPolicy(config),
    prefetch: rolePrefetch(config),
    log: choice.log,
  })
}

/** The in-process bus of the embedded mode. */
export function memoryBus(config: Config, choice: Pick<BusChoice, 'running' | 'log'>): Bus {
  return new MemoryBus({ queues: declaredQueues(config, choice.running), retry: retryPolicy(config), log: choice.log })
}
