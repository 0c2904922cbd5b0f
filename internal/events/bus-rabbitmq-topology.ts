import type { BrokerConfig, Recovery } from 'rascal'
import { roleQueues, type RetryPolicy, type RoleQueues } from './topology.js'

/** The topic exchange every durable and live package event goes through (routing key = event type). */
export const EXCHANGE = 'delivertrack.events'

/**
 * What a gateway's hub hears: every package event, and the live notices for
 * users' channels (`notification.created`), which no role queue is bound to.
 */
export const HUB_BINDINGS = ['package.#', 'notification.#'] as const

type Vhost = NonNullable<BrokerConfig['vhosts']>[string]

/** RABBITMQ_QUEUE_TYPE: classic queues for one node, quorum queues (replicated) for a cluster. */
export type QueueType = 'classic' | 'quorum'

/**
 * Deliveries of one message a quorum queue allows before dead-lettering it. rascal
 * counts failed attempts itself (RetryPolicy); this only stops a message that keeps
 * taking its consumer down, since each crash hands it out again.
 */
export const DELIVERY_LIMIT = 20

/**
 * A durable queue's options. A quorum queue's default dead-lettering drops a message
 * its target cannot take; at-least-once (which requires reject-publish overflow)
 * keeps it until the target confirms. A queue that dead-letters nowhere gets no
 * delivery limit, which would drop the message; nor does one whose consumer puts a
 * message back on purpose (`deliveryLimit: false`). RabbitMQ 4 gives every quorum
 * queue a limit of 20 of its own (docs/operations.md).
 */
export function durableQueue(type: QueueType, args: Record<string, unknown> = {}, opts: { deliveryLimit?: boolean } = {}): { durable: true; arguments: Record<string, unknown> } {
  if (type === 'classic') return { durable: true, arguments: args }
  const deadLetters = 'x-dead-letter-exchange' in args ? { ...(opts.deliveryLimit === false ? {} : { 'x-delivery-limit': DELIVERY_LIMIT }), 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {}
  return { durable: true, arguments: { ...args, 'x-queue-type': 'quorum', ...deadLetters } }
}

/**
 * rascal's connections for AMQP_URL: one URL, or a cluster's nodes separated by
 * commas. rascal starts at a random one and moves on to the next when a connection
 * fails or is lost. noDelay (passed on to amqplib; @types/rascal does not know it):
 * ordered publishing waits for confirms, and under Nagle's algorithm each round
 * trip waits out a delayed ACK.
 */
export function brokerConnections(url: string): Pick<Vhost, 'connections'> {
  const urls = url.split(',').map((u) => u.trim()).filter(Boolean)
  return {
    connections: urls.map((u) => ({
      url: u,
      retry: { min: 250, max: 10_000, factor: 2, strategy: 'exponential' },
      socketOptions: { timeout: 5_000, noDelay: true } as { timeout: number },
    })),
  }
}

/** The broker's refusal, with what to do when it is a queue declared before with the other RABBITMQ_QUEUE_TYPE. */
export function explainBrokerError(err: unknown): string {
  const message = (err as Error).message
  // The broker names the first argument that differs, which may be any of the quorum-only ones.
  if (!/inequivalent arg '(x-queue-type|x-dead-letter-strategy|x-overflow|x-delivery-limit)'/.test(message)) return message
  return `${message} (a queue exists with the other RABBITMQ_QUEUE_TYPE: a queue's type cannot change; drain and delete the old queues, or use a new vhost, as docs/operations.md describes)`
}

export interface RabbitTopologyOptions {
  /** One AMQP URL, or several separated by commas (a cluster's nodes). */
  url: string
  /** Classic when not given. */
  queueType?: QueueType
  /** The exclusive, auto-deleted queue of this process's hub; none for a process without one. */
  hubQueue?: string
  queues: ReadonlyArray<{ role: string; bindings: readonly string[] }>
  retry: RetryPolicy
  prefetch?: Record<string, number>
}

/** The publication that takes a failed message to its delay queue, or to the dead letters. */
export const delayPublication = (queue: string) => queue
export const deadPublication = (names: RoleQueues) => names.dead

/**
 * The whole broker topology as rascal declares it. Work and dead-letter queues are
 * declared identically by every process (identical arguments never conflict), so
 * events published while no worker runs are kept. A message the work queue
 * rejects without requeue dead-letters into `dead`, so even a fallback nack loses
 * nothing. Delay queues hold a message for their TTL, then dead-letter it back
 * into the work queue.
 */
export function rascalConfig(opts: RabbitTopologyOptions): BrokerConfig {
  const queues: NonNullable<Vhost['queues']> = {}
  const bindings: NonNullable<Vhost['bindings']> = {}
  const publications: NonNullable<Vhost['publications']> = {}
  const subscriptions: NonNullable<Vhost['subscriptions']> = {}
  if (opts.hubQueue) {
    queues[opts.hubQueue] = { options: { exclusive: true, autoDelete: true, durable: false } }
    for (const [i, key] of HUB_BINDINGS.entries()) bindings[`hub.${i}`] = { source: EXCHANGE, destination: opts.hubQueue, destinationType: 'queue', bindingKey: key }
    // No acknowledgements: an exclusive, auto-deleted queue can never redeliver anyway
    // (the process replays the event log after reconnecting instead).
    subscriptions.hub = { queue: opts.hubQueue, contentType: 'application/json', options: { noAck: true } }
  }
  const delays = [...new Set(opts.retry.delaysMs)]
  const type = opts.queueType ?? 'classic'
  for (const { role, bindings: keys } of opts.queues) {
    const names = roleQueues(role, opts.retry.delaysMs)
    queues[names.work] = { options: durableQueue(type, { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.dead }) }
    queues[names.dead] = { options: durableQueue(type) }
    keys.forEach((key, i) => {
      bindings[`${role}.${i}`] = { source: EXCHANGE, destination: names.work, destinationType: 'queue', bindingKey: key }
    })
    names.delays.forEach((delay, i) => {
      queues[delay] = { options: durableQueue(type, { 'x-message-ttl': delays[i]!, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.work }) }
      publications[delayPublication(delay)] = { queue: delay, confirm: true, options: { persistent: true } }
    })
    publications[deadPublication(names)] = { queue: names.dead, confirm: true, options: { persistent: true } }
    subscriptions[role] = {
      queue: names.work,
      prefetch: opts.prefetch?.[role] ?? 32,
      contentType: 'application/json',
      // Bounds the wait for in-flight messages when the subscription is cancelled at shutdown.
      closeTimeout: 30_000,
    } as never
  }
  return {
    vhosts: {
      '/': {
        ...brokerConnections(opts.url),
        exchanges: { [EXCHANGE]: { type: 'topic', options: { durable: true } } },
        queues,
        bindings,
        // `timeout` bounds the wait for a confirm (newer than @types/rascal knows).
        publications: { events: { exchange: EXCHANGE, confirm: true, timeout: 5_000, options: { persistent: true, contentType: 'application/json' } } as never, ...publications },
        subscriptions,
      },
    },
  }
}

/**
 * rascal's recovery chain for a failed message: the n-th failure is forwarded to
 * the delay queue of retry n (the last delay repeats), the one that uses up
 * `maxAttempts` to the dead letters. rascal counts forwards in the message's
 * headers, so the count survives the delay queue and restarts.
 */
export function recoveryChain(names: RoleQueues, retry: RetryPolicy): Recovery[] {
  const chain: Recovery[] = []
  const unique = [...new Set(retry.delaysMs)]
  for (let failure = 1; failure < retry.maxAttempts; failure++) {
    const ms = retry.delaysMs[Math.min(failure, retry.delaysMs.length) - 1]!
    chain.push({ strategy: 'forward', publication: delayPublication(names.delays[unique.indexOf(ms)]!), attempts: failure, xDeathFix: true })
  }
  chain.push(...deadLetterChain(names))
  return chain
}

/** Straight to the dead letters; if even that fails, rejecting dead-letters it through the queue's DLX. */
export function deadLetterChain(names: RoleQueues): Recovery[] {
  return [{ strategy: 'forward', publication: deadPublication(names), xDeathFix: true }, { strategy: 'nack' }]
}

/** How many times rascal has forwarded this message on from `queue` (one per failed attempt). */
export function forwards(headers: unknown, queue: string): number {
  const h = headers as { rascal?: { recovery?: Record<string, { forwarded?: number }> } } | undefined
  return Number(h?.rascal?.recovery?.[queue]?.forwarded ?? 0)
}
