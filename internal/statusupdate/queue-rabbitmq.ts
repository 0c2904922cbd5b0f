import type { Message } from 'amqplib'
import type { BrokerAsPromised as Broker } from 'rascal'
import { createBroker, openChannel } from '../events/bus-rabbitmq-channels.js'
import type { QueueType } from '../events/bus-rabbitmq-topology.js'
import { withTimeout } from '../platform/deadline.js'
import { afterFailure, type RetryPolicy } from '../events/topology.js'
import type { RoleLogger } from '../events/roles.js'
import { messageBody, parseMessage, type QueuedUpdate } from './domain.js'
import type { StatusUpdateQueue, UpdateHandler } from './ports.js'
import { OrderedConsumer, type Lane } from './queue-ordered.js'
import { ATTEMPT_HEADER, CLIENT_HEADER, INTAKE_QUEUE, REQUEST_HEADER, partitionQueue, retryName, statusQueueConfig } from './queue-topology.js'

export interface RabbitStatusQueueOptions {
  /** One AMQP URL, or several separated by commas (a cluster's nodes). */
  url: string
  queueType?: QueueType
  partitions: number
  retry: RetryPolicy
  /** Unacknowledged messages per partition (and on the intake). */
  prefetch: number
  log: RoleLogger
}

/** What a worker's consumption did so far. */
export interface StatusConsumer {
  readonly counters: { handled: number; forwarded: number; retried: number; deadLettered: number }
  /** Finishes the update in hand; the rest stays queued, in order (see queue-ordered.ts). */
  stop(): Promise<void>
}

type Publish = { routingKey?: string; options: { messageId: string; headers: Record<string, unknown> } }

/**
 * The status updates on RabbitMQ through rascal (which reconnects and re-declares
 * the topology): gateways' relays publish to the consistent-hash exchange, workers
 * forward the intake queue there and apply each partition in order.
 */
export class RabbitStatusQueue implements StatusUpdateQueue {
  private broker: Broker | undefined
  private up = false
  private closed = false
  private connecting: Promise<void> | undefined

  constructor(private readonly opts: RabbitStatusQueueOptions) {}

  get connected(): boolean {
    return this.broker !== undefined && this.up
  }

  /** Connects in the background, retrying until close(). */
  start(): Promise<void> {
    this.connecting ??= this.connectLoop()
    return this.connecting
  }

  private async connectLoop(): Promise<void> {
    const broker = await createBroker(statusQueueConfig(this.opts), {
      closed: () => this.closed,
      attach: (b) => {
        b.on('error', (err: Error) => {
          this.up = false
          this.opts.log.warn({ err: err.message }, 'status updates: broker connection error; reconnecting')
        })
        b.on('vhost_initialised', () => {
          this.up = true
        })
      },
      unreachable: (err, retryInMs) => this.opts.log.warn({ err, retryInMs }, 'status updates: broker unreachable; retrying'),
    })
    if (!broker) return
    this.broker = broker
    this.up = true
  }

  private requireBroker(): Broker {
    if (!this.broker || !this.up) throw new Error('message broker not connected')
    return this.broker
  }

  async publish(batch: readonly QueuedUpdate[]): Promise<void> {
    const broker = this.requireBroker()
    // rascal spreads publishes over a pool of confirm channels, and the broker keeps order only
    // within one channel: a package's updates go one after another, each confirmed before the
    // next is sent; different packages go at once. Resolves when every confirm is in.
    const byPackage = new Map<string, QueuedUpdate[]>()
    for (const m of batch) byPackage.set(m.update.trackingNumber, [...(byPackage.get(m.update.trackingNumber) ?? []), m])
    await Promise.all(
      [...byPackage.values()].map(async (updates) => {
        for (const m of updates) await this.send(broker, 'partitions', messageBody(m.update), { routingKey: m.update.trackingNumber, options: { messageId: m.update.externalId, headers: headersOf(m) } })
      }),
    )
  }

  private async send(broker: Broker, publication: string, body: unknown, overrides: Publish): Promise<void> {
    const pub = await broker.publish(publication, body, overrides as never)
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        pub.on('success', () => resolve())
        pub.on('error', (err: Error) => reject(err))
      }),
      6_000,
      'RabbitMQ confirm',
    )
  }

  /**
   * Runs a worker: forwards the intake queue to the partitions and applies every
   * partition it is the single active consumer of, one message at a time in
   * delivery order. A failed apply waits out a retry delay (back to the same
   * partition); the last attempt, or a malformed message, goes to the dead letters.
   */
  async consume(apply: UpdateHandler, held?: (message: QueuedUpdate, attempts: number, err: Error) => Promise<void>): Promise<StatusConsumer> {
    const broker = this.requireBroker()
    const counters = { handled: 0, forwarded: 0, retried: 0, deadLettered: 0 }
    const lanes: Lane[] = [
      {
        queue: INTAKE_QUEUE,
        step: async (message) => {
          const content = parse(message)
          const queued = this.read(message, content)
          if (!queued) return this.dead(broker, message, content, counters)
          await this.send(broker, 'partitions', messageBody(queued.update), { routingKey: queued.update.trackingNumber, options: { messageId: queued.update.externalId, headers: headersOf(queued) } })
          counters.forwarded++
        },
      },
    ]
    // A random first partition, so workers that start together split the partitions between them.
    const first = Math.floor(Math.random() * this.opts.partitions)
    for (let k = 0; k < this.opts.partitions; k++) {
      lanes.push({
        queue: partitionQueue((first + k) % this.opts.partitions),
        step: async (message) => {
          const content = parse(message)
          const queued = this.read(message, content)
          if (!queued) return this.dead(broker, message, content, counters)
          const attempt = Number(message.properties.headers?.[ATTEMPT_HEADER] ?? 0) + 1
          try {
            await apply(queued)
            counters.handled++
          } catch (err) {
            const next = afterFailure(this.opts.retry, attempt)
            this.opts.log.warn({ externalId: queued.update.externalId, requestId: queued.requestId, attempt, err: (err as Error).message }, next.dead ? 'status update dead-lettered' : 'status update failed; retrying later')
            const overrides = { routingKey: queued.update.trackingNumber, options: { messageId: queued.update.externalId, headers: { ...headersOf(queued), [ATTEMPT_HEADER]: attempt } } }
            await this.send(broker, next.dead ? 'dead' : retryName(next.delayMs), messageBody(queued.update), overrides)
            if (next.dead) {
              counters.deadLettered++
              // The message is safe in the dead letters whatever this does: a failure here is only logged.
              await held?.(queued, attempt, err as Error).catch((e: Error) => this.opts.log.warn({ externalId: queued.update.externalId, err: e.message }, 'could not note why a status update is held'))
            } else counters.retried++
          }
        },
      })
    }
    const consumer = new OrderedConsumer({ open: () => openChannel(this.requireBroker()), lanes, prefetch: this.opts.prefetch, log: this.opts.log })
    await consumer.start()
    return { counters, stop: () => consumer.stop() }
  }

  /** The update and its client from a message, or undefined when it can never be applied. */
  private read(message: Message, content: unknown): QueuedUpdate | undefined {
    const clientId = headerText(message.properties.headers?.[CLIENT_HEADER])
    if (!clientId || content instanceof Error) return undefined
    try {
      const body = { externalId: message.properties.messageId as unknown, ...(content as object) }
      const requestId = headerText(message.properties.headers?.[REQUEST_HEADER])
      return { clientId, update: parseMessage(body), ...(requestId ? { requestId } : {}) }
    } catch {
      return undefined
    }
  }

  private async dead(broker: Broker, message: Message, content: unknown, counters: StatusConsumer['counters']): Promise<void> {
    this.opts.log.warn({ messageId: message.properties.messageId }, 'malformed status update (no x-client-id, or not an update): dead-lettered')
    const body = content instanceof Error ? message.content.toString('utf8') : content
    await this.send(broker, 'dead', body, { options: { messageId: String(message.properties.messageId ?? ''), headers: { ...message.properties.headers } } })
    counters.deadLettered++
  }

  async close(): Promise<void> {
    this.closed = true
    const broker = this.broker
    this.broker = undefined
    if (broker) await withTimeout(broker.shutdown(), 5_000, 'RabbitMQ shutdown').catch((err: unknown) => this.opts.log.warn({ err }, 'broker shutdown failed'))
  }
}

const headersOf = (m: QueuedUpdate): Record<string, unknown> => ({ [CLIENT_HEADER]: m.clientId, ...(m.requestId ? { [REQUEST_HEADER]: m.requestId } : {}) })

/** The JSON body, or the parse error (such a message goes to the dead letters). */
function parse(message: Message): unknown {
  try {
    return JSON.parse(message.content.toString('utf8'))
  } catch (err) {
    return err as Error
  }
}

const headerText = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : Buffer.isBuffer(v) && v.length > 0 ? v.toString('utf8') : undefined)
