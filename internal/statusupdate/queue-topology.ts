import type { BrokerConfig } from 'rascal'
import { brokerConnections, durableQueue, type QueueType } from '../events/bus-rabbitmq-topology.js'
import type { RetryPolicy } from '../events/topology.js'

/** The queue the contract names: services inside the cluster publish here (message id = externalId, header x-client-id). */
export const INTAKE_QUEUE = 'delivertrack.status-updates'
export const CLIENT_HEADER = 'x-client-id'
export const REQUEST_HEADER = 'x-request-id'
/** Failed attempts so far, on a message coming back from a retry delay. */
export const ATTEMPT_HEADER = 'x-delivertrack-attempt'
/** Consistent-hash exchange (plugin rabbitmq_consistent_hash_exchange): routing key = tracking number. */
export const PARTITION_EXCHANGE = 'delivertrack.status-updates.partitions'
export const DEAD_QUEUE = 'delivertrack.status-updates.dead'
export const partitionQueue = (i: number) => `delivertrack.status-updates.p${i}`
/** A fanout exchange and its queue per delay; the queue's TTL dead-letters back to the partitions, keeping the tracking number as routing key. */
export const retryName = (ms: number) => `delivertrack.status-updates.retry.${ms}ms`

export interface StatusQueueTopology {
  /** One AMQP URL, or several separated by commas (a cluster's nodes). */
  url: string
  /** Classic when not given. */
  queueType?: QueueType
  partitions: number
  retry: RetryPolicy
  /** Unacknowledged messages per partition (and on the intake), for the consumer. */
  prefetch: number
}

type Vhost = NonNullable<BrokerConfig['vhosts']>[string]

const sac = { 'x-single-active-consumer': true, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': DEAD_QUEUE }
// No quorum delivery limit on the ordered queues: their consumer puts an update back
// (once a second) while the broker cannot take its forward, as in a node's failover,
// and a limit would dead-letter it there and let the package's later updates pass it.
const ordered = { deliveryLimit: false }

/**
 * The status updates' topology, declared the same by every process: the intake
 * queue, N partition queues bound to the consistent-hash exchange (equal weights),
 * each with a single active consumer, so one worker at a time applies a given
 * package's updates, in queue order; retry delays and the dead letters.
 */
export function statusQueueConfig(opts: StatusQueueTopology): BrokerConfig {
  const type = opts.queueType ?? 'classic'
  const queues: NonNullable<Vhost['queues']> = {
    [INTAKE_QUEUE]: { options: durableQueue(type, sac, ordered) },
    [DEAD_QUEUE]: { options: durableQueue(type) },
  }
  // @types/rascal lists only the built-in exchange types; the broker takes the plugin's.
  const exchanges: Record<string, { type: string; options: { durable: boolean } }> = { [PARTITION_EXCHANGE]: { type: 'x-consistent-hash', options: { durable: true } } }
  const bindings: NonNullable<Vhost['bindings']> = {}
  const publications: NonNullable<Vhost['publications']> = {
    partitions: { exchange: PARTITION_EXCHANGE, confirm: true, timeout: 5_000, options: { persistent: true, contentType: 'application/json' } } as never,
    dead: { queue: DEAD_QUEUE, confirm: true, timeout: 5_000, options: { persistent: true, contentType: 'application/json' } } as never,
  }
  for (let i = 0; i < opts.partitions; i++) {
    queues[partitionQueue(i)] = { options: durableQueue(type, sac, ordered) }
    bindings[`partition.${i}`] = { source: PARTITION_EXCHANGE, destination: partitionQueue(i), destinationType: 'queue', bindingKey: '1' }
  }
  for (const ms of new Set(opts.retry.delaysMs)) {
    const name = retryName(ms)
    exchanges[name] = { type: 'fanout', options: { durable: true } }
    queues[name] = { options: durableQueue(type, { 'x-message-ttl': ms, 'x-dead-letter-exchange': PARTITION_EXCHANGE }) }
    bindings[name] = { source: name, destination: name, destinationType: 'queue', bindingKey: '' }
    publications[name] = { exchange: name, confirm: true, timeout: 5_000, options: { persistent: true, contentType: 'application/json' } } as never
  }
  return {
    vhosts: {
      '/': {
        ...brokerConnections(opts.url),
        exchanges: exchanges as Vhost['exchanges'],
        queues,
        bindings,
        publications,
      },
    },
  }
}
