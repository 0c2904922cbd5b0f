import type { Message } from 'amqplib'
import type { ConfirmChannel, Connection } from 'amqplib/callback_api'
import type { BrokerAsPromised as Broker } from 'rascal'
import { singleFlight, withTimeout } from '../platform/deadline.js'
import { PROBE_TIMEOUT_MS, type Bus, type BusMessage, type ConsumeOptions, type QueueStat, type RoleConsumer } from './bus.js'
import { RabbitBatchConsumer } from './bus-rabbitmq-batch.js'
import { RabbitConsumer } from './bus-rabbitmq-consumer.js'
import { checkExchange, closeQuietly, createBroker, openChannel, openConfirmChannel, requeueDead, statsOf } from './bus-rabbitmq-channels.js'
import { EXCHANGE, rascalConfig, type QueueType } from './bus-rabbitmq-topology.js'
import { isEnvelope } from './envelope.js'
import type { RoleHandler, RoleLogger } from './roles.js'
import { roleQueues, type RetryPolicy } from './topology.js'

/** The AMQP header that names the process a message came from (BusMessage.origin). */
export const ORIGIN_HEADER = 'x-delivertrack-origin'
/** The request that caused the event (also in the envelope), for tools that read headers only. */
export const REQUEST_ID_HEADER = 'x-request-id'

export interface RabbitBusOptions {
  /** One AMQP URL, or several separated by commas (a cluster's nodes). */
  url: string
  /** RABBITMQ_QUEUE_TYPE (classic when not given). */
  queueType?: QueueType
  /** Unique per process: names its exclusive hub queue. */
  instanceId: string
  /** Declare and consume a hub queue for this process (gateways). */
  hub: boolean
  queues: ReadonlyArray<{ role: string; bindings: readonly string[] }>
  retry: RetryPolicy
  /** Unacknowledged messages per role's consumer (default 32). */
  prefetch?: Record<string, number>
  /** First wait before a batched consumer reopens a lost channel (default 1 s, doubling). */
  reconnectMs?: number
  log: RoleLogger
}

/**
 * The bus on RabbitMQ through rascal, which owns the connection, reconnects with
 * backoff and re-declares the topology. Two things use amqplib's channels directly,
 * on connections opened through rascal (broker.connect, same settings): ordered
 * publishing, which waits for every confirm of a batch on one channel instead of
 * one rascal publication per message, and the batched consumer of the archive.
 */
export class RabbitBus implements Bus {
  private broker: Broker | undefined
  private connecting: Promise<void> | undefined
  private closed = false
  private up = false
  private downSince: Date | undefined
  private readonly listeners: Array<(downSince: Date | undefined) => void> = []
  private publisher: Promise<{ connection: Connection; channel: ConfirmChannel }> | undefined
  private admin: Promise<Connection> | undefined
  // One round trip at a time: while the broker hangs, callers time out on the pending one.
  private readonly roundTrip = singleFlight(async () => checkExchange(await this.adminConnection(), EXCHANGE))
  private readonly readStats = singleFlight(async () => statsOf(await this.adminConnection(), this.opts.queues.map((q) => roleQueues(q.role, this.opts.retry.delaysMs))))
  readonly hubQueue: string

  constructor(private readonly opts: RabbitBusOptions) {
    this.hubQueue = `gateway.${opts.instanceId}`
  }

  get connected(): boolean {
    return this.broker !== undefined && this.up
  }

  onConnected(listener: (downSince: Date | undefined) => void): void {
    this.listeners.push(listener)
    if (this.connected) listener(undefined)
  }

  start(): Promise<void> {
    this.connecting ??= this.connectLoop()
    return this.connecting
  }

  private async connectLoop(): Promise<void> {
    const config = rascalConfig({ url: this.opts.url, queueType: this.opts.queueType, hubQueue: this.opts.hub ? this.hubQueue : undefined, queues: this.opts.queues, retry: this.opts.retry, prefetch: this.opts.prefetch })
    const broker = await createBroker(config, {
      closed: () => this.closed,
      attach: (b) => {
        b.on('error', (err: Error) => {
          if (this.up) this.downSince = new Date()
          this.up = false
          this.opts.log.warn({ err: err.message }, 'message broker connection error; reconnecting')
        })
        b.on('vhost_initialised', () => {
          const since = this.downSince ?? new Date()
          this.up = true
          this.downSince = undefined
          this.opts.log.info({ downSince: since }, 'message broker connection recovered')
          for (const l of this.listeners) l(since)
        })
      },
      unreachable: (err, retryInMs) => this.opts.log.warn({ err, retryInMs }, 'message broker unreachable; retrying'),
    })
    if (!broker) return
    this.broker = broker
    this.up = true
    this.opts.log.info({ queue: this.opts.hub ? this.hubQueue : undefined }, 'connected to the message broker')
    for (const l of this.listeners) l(undefined)
  }

  private requireBroker(): Broker {
    if (!this.broker || !this.up) throw new Error('message broker not connected')
    return this.broker
  }

  /**
   * One confirm channel publishes the batch in order (consumers rely on each
   * package's order) and the promise waits for every confirm; a nack, a lost
   * connection or no channel and confirms within `timeoutMs` rejects and drops
   * the channel, which the next call opens anew.
   */
  async publish(messages: readonly BusMessage[], timeoutMs = 5_000): Promise<void> {
    if (messages.length === 0) return
    const broker = this.requireBroker()
    this.publisher ??= openConfirmChannel(broker, () => (this.publisher = undefined))
    const opened = this.publisher
    let timer: NodeJS.Timeout | undefined
    // Started before the channel is opened: on a broker that stopped answering, opening hangs too.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no broker confirm within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      const { channel } = await Promise.race([opened, timeout])
      const confirms = messages.map(
        (m) =>
          new Promise<void>((resolve, reject) => {
            const headers = { ...(m.origin ? { [ORIGIN_HEADER]: m.origin } : {}), ...(m.event.requestId ? { [REQUEST_ID_HEADER]: m.event.requestId } : {}) }
            channel.publish(EXCHANGE, m.event.type, Buffer.from(JSON.stringify(m.event)), { persistent: true, contentType: 'application/json', messageId: m.event.id, headers }, (err: unknown) =>
              err ? reject(err instanceof Error ? err : new Error('message nacked by the broker')) : resolve(),
            )
          }),
      )
      await Promise.race([Promise.all(confirms), timeout])
    } catch (err) {
      if (this.publisher === opened) this.publisher = undefined
      void opened.then(({ connection }) => closeQuietly(connection), () => undefined)
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  async subscribe(handler: (message: BusMessage) => void): Promise<void> {
    if (!this.opts.hub) throw new Error('this bus was built without a hub queue')
    const subscription = await this.requireBroker().subscribe('hub')
    subscription.on('message', (message: Message, content: unknown) => {
      if (!isEnvelope(content)) return this.opts.log.warn({}, 'ignoring a message that is not an event envelope')
      const origin = message.properties.headers?.[ORIGIN_HEADER] as string | undefined
      handler(origin ? { event: content, origin } : { event: content })
    })
    subscription.on('error', (err: Error) => this.opts.log.warn({ err }, 'hub subscription error'))
    // Without acknowledgements there is nothing to nack: a nack here would be a channel
    // error that takes the auto-deleted hub queue with it.
    subscription.on('invalid_content', (err: Error) => this.opts.log.warn({ err }, 'dropping an unparseable message'))
  }

  async consume(handler: RoleHandler, opts: ConsumeOptions): Promise<RoleConsumer> {
    const broker = this.requireBroker()
    if (!this.opts.queues.some((q) => q.role === handler.role)) throw new Error(`no queue declared for role "${handler.role}"`)
    const names = roleQueues(handler.role, this.opts.retry.delaysMs)
    const common = { broker, handler, names, retry: this.opts.retry, log: this.opts.log }
    const consumer = opts.batched
      ? new RabbitBatchConsumer({ ...common, prefetch: opts.prefetch, reconnectMs: this.opts.reconnectMs, open: () => openChannel(this.requireBroker()) })
      : new RabbitConsumer(common)
    await consumer.start()
    return consumer
  }

  private adminConnection(): Promise<Connection> {
    this.admin ??= (async () => {
      const connection = (await this.requireBroker().connect('/')) as unknown as Connection
      const reset = () => (this.admin = undefined)
      connection.on('error', reset)
      connection.on('close', reset)
      return connection
    })().catch((err: unknown) => {
      this.admin = undefined
      throw err
    })
    return this.admin
  }

  async queueStats(timeoutMs = PROBE_TIMEOUT_MS): Promise<Record<string, QueueStat>> {
    this.requireBroker()
    return withTimeout(this.readStats(), timeoutMs, 'RabbitMQ queue stats')
  }

  async probe(timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
    this.requireBroker()
    await withTimeout(this.roundTrip(), timeoutMs, `RabbitMQ (passive declare of ${EXCHANGE})`)
  }

  async requeueDeadLetters(role: string, limit = Number.POSITIVE_INFINITY): Promise<{ requeued: number; remaining: number }> {
    return requeueDead(await this.adminConnection(), roleQueues(role, this.opts.retry.delaysMs), limit)
  }

  async close(): Promise<void> {
    this.closed = true
    const admin = this.admin
    this.admin = undefined
    const adminConnection = await admin?.catch(() => undefined)
    if (adminConnection) await closeQuietly(adminConnection)
    const publisher = this.publisher
    this.publisher = undefined
    const publishing = (await publisher?.catch(() => undefined))?.connection
    if (publishing) await closeQuietly(publishing)
    const broker = this.broker
    this.broker = undefined
    // Bounded: on a broker that stopped answering, a graceful shutdown would wait for its heartbeat to lapse.
    if (broker) await withTimeout(broker.shutdown(), 5_000, 'RabbitMQ shutdown').catch((err: unknown) => this.opts.log.warn({ err }, 'broker shutdown failed'))
  }
}
