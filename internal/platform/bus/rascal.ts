import { EventEmitter } from 'node:events'
import { Duplex } from 'node:stream'
import amqplib, { type Message } from 'amqplib'
import type { Connection as CallbackConnection, ConfirmChannel as CallbackConfirmChannel } from 'amqplib/callback_api'
import rascal from 'rascal'
import type { BrokerAsPromised as Broker, BrokerConfig, SubscriberSessionAsPromised } from 'rascal'
import type { Topology } from './worker-topology.js'

const { BrokerAsPromised } = rascal

/**
 * The socket under an amqplib connection (callback or promise API). amqplib hands
 * each published message to the socket on its own, from a setImmediate after the
 * publish calls, so a batch of N messages costs N write syscalls here and N reads
 * on the broker's side (strace: ~0.9 writes per status update before corking).
 */
function socketOf(connection: unknown): Duplex | undefined {
  const stream = (connection as { connection?: { stream?: unknown } }).connection?.stream
  return stream instanceof Duplex ? stream : undefined
}

/**
 * Uncorks once amqplib has written what was just published: its writer runs from a
 * setImmediate queued after this one, so the second turn comes after it, and the
 * whole batch leaves in one writev.
 */
function uncorkAfterFlush(socket: Duplex): void {
  setImmediate(() => setImmediate(() => socket.uncork()))
}

/** The topic exchange every durable and live package event goes through (routing key = event type). */
export const EXCHANGE = 'delivertrack.events'

export interface BusOptions {
  url: string
  /** Unique per gateway process: names its exclusive hub queue. */
  instanceId: string
  /** Declare and consume this gateway's hub queue. */
  hub: boolean
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void }
  /** More queues, bindings, publications and subscriptions to declare (the workers' topology, worker-topology.ts). */
  topology?: Topology
}

/** One message for publishInOrder. */
export interface OutgoingMessage {
  routingKey: string
  content: unknown
  messageId: string
}

export interface Delivery {
  routingKey: string
  content: unknown
}

/**
 * The one place that knows the broker topology: a durable topic exchange, one
 * exclusive auto-delete queue per gateway for the hub, and a confirmed
 * publication. rascal reconnects with exponential backoff and re-declares the
 * topology; `reconnected` is emitted after each recovery so consumers can catch up
 * on what their (deleted) exclusive queue missed.
 */
export class RascalBus extends EventEmitter {
  private broker: Broker | undefined
  private connecting: Promise<void> | undefined
  private closed = false
  private up = false
  /** When the connection was last known good before the current outage. */
  private downSince: Date | undefined
  private statsConnection: Promise<amqplib.ChannelModel> | undefined
  private ordered: Promise<{ connection: CallbackConnection; channel: CallbackConfirmChannel }> | undefined
  readonly hubQueue: string

  constructor(private readonly opts: BusOptions) {
    super()
    this.hubQueue = `gateway.${opts.instanceId}`
  }

  /** True while the broker connection is up (false during an outage, while rascal reconnects). */
  get connected(): boolean {
    return this.broker !== undefined && this.up
  }

  config(): BrokerConfig {
    const queues: NonNullable<BrokerConfig['vhosts']>[string]['queues'] = {}
    const bindings: NonNullable<BrokerConfig['vhosts']>[string]['bindings'] = {}
    const subscriptions: NonNullable<BrokerConfig['vhosts']>[string]['subscriptions'] = {}
    if (this.opts.hub) {
      queues[this.hubQueue] = { options: { exclusive: true, autoDelete: true, durable: false } }
      bindings.hub = { source: EXCHANGE, destination: this.hubQueue, destinationType: 'queue', bindingKey: 'package.#' }
      // No acknowledgements: the queue is exclusive and auto-deleted with its connection, so an
      // unacknowledged message could never be redelivered anyway (the gateway replays the event
      // log after reconnecting instead); acks would only cost a frame per message on both sides.
      subscriptions.hub = { queue: this.hubQueue, contentType: 'application/json', options: { noAck: true } }
    }
    return {
      vhosts: {
        '/': {
          // noDelay (passed on to amqplib; @types/rascal does not know it): publications wait for a
          // confirm one after another (per package), and with Nagle's algorithm each confirm round
          // trip waits out a delayed ACK (~40 ms instead of ~1 ms).
          // writableHighWaterMark (passed on to net.connect): publishInOrder corks the socket for a
          // batch; above the default 16 KB amqplib would stop and write the rest one message at a time.
          connection: {
            url: this.opts.url,
            retry: { min: 250, max: 10_000, factor: 2, strategy: 'exponential' },
            socketOptions: { timeout: 5_000, noDelay: true, writableHighWaterMark: 1 << 20 } as { timeout: number },
          },
          exchanges: { [EXCHANGE]: { type: 'topic', options: { durable: true } } },
          queues: { ...queues, ...this.opts.topology?.queues },
          bindings: { ...bindings, ...this.opts.topology?.bindings },
          // `timeout` bounds the wait for a confirm (newer than @types/rascal knows).
          publications: { events: { exchange: EXCHANGE, confirm: true, timeout: 5_000, options: { persistent: true, contentType: 'application/json' } } as never, ...this.opts.topology?.publications },
          subscriptions: { ...subscriptions, ...this.opts.topology?.subscriptions },
        },
      },
    }
  }

  /** Connects in the background, retrying until it succeeds or close() is called. */
  start(): Promise<void> {
    this.connecting ??= this.connectLoop()
    return this.connecting
  }

  private async connectLoop(): Promise<void> {
    let delay = 250
    while (!this.closed) {
      try {
        const broker = await BrokerAsPromised.create(this.config())
        broker.on('error', (err: Error) => {
          if (this.up) this.downSince = new Date()
          this.up = false
          this.opts.log.warn({ err: err.message }, 'message broker connection error; reconnecting')
        })
        broker.on('vhost_initialised', () => {
          const since = this.downSince ?? new Date()
          this.up = true
          this.downSince = undefined
          this.opts.log.info({ downSince: since }, 'message broker connection recovered')
          this.emit('reconnected', since)
        })
        if (this.closed) {
          await broker.shutdown()
          return
        }
        this.broker = broker
        this.up = true
        this.opts.log.info({ queue: this.opts.hub ? this.hubQueue : undefined }, 'connected to the message broker')
        this.emit('connected')
        return
      } catch (err) {
        // rascal hands back the half-initialised broker on the error; unless it is shut
        // down, its keep-alive interval leaks and the process never exits after close().
        const e = err as { broker?: symbol } & Record<symbol, Broker | undefined>
        await (e.broker ? e[e.broker] : undefined)?.shutdown().catch(() => undefined)
        this.opts.log.warn({ err: (err as Error).message, retryInMs: delay }, 'message broker unreachable; retrying')
        await new Promise((r) => setTimeout(r, delay).unref())
        delay = Math.min(delay * 2, 10_000)
      }
    }
  }

  /**
   * Publishes with a broker confirm. Rejects (never hangs) when the broker is not
   * connected, the connection is lost mid-publish, or no confirm arrives in time,
   * so the caller can keep the event and retry later.
   */
  async publish(routingKey: string, content: unknown, messageId?: string): Promise<void> {
    const broker = this.broker
    if (!broker) throw new Error('message broker not connected')
    const publication = (await broker.publish('events', content, { routingKey, options: { messageId } })) as unknown as EventEmitter & { abort(): void }
    await new Promise<void>((resolve, reject) => {
      publication.on('success', () => resolve())
      publication.on('error', (err: Error) => reject(err))
      publication.on('return', () => resolve()) // no queue bound yet: nothing to deliver to, not an error
      publication.on('paused', () => {
        publication.abort()
        reject(new Error('message broker connection lost; publication aborted'))
      })
    })
  }

  /**
   * Publishes the messages to the exchange in the given order on one confirm
   * channel, and resolves once the broker confirmed every one (rejects on a nack,
   * a lost connection, or no confirm within `timeoutMs`). The channel lives on a
   * connection of its own, opened through rascal (broker.connect, so with the same
   * connection settings) and re-opened on the next call after any failure. For
   * batches (the outbox relay) this costs a fraction of a rascal publication per
   * message, which borrows a pooled channel and waits for each confirm on its own,
   * and one channel keeps the order that consumers rely on.
   */
  async publishInOrder(messages: OutgoingMessage[], timeoutMs = 5_000): Promise<void> {
    if (messages.length === 0) return
    if (!this.connected) throw new Error('message broker not connected')
    const { connection, channel } = await this.orderedChannel()
    const socket = socketOf(connection)
    socket?.cork()
    let confirms: Promise<void>[]
    try {
      confirms = messages.map(
        (m) =>
          new Promise<void>((resolve, reject) => {
            const body = Buffer.from(JSON.stringify(m.content))
            channel.publish(EXCHANGE, m.routingKey, body, { persistent: true, contentType: 'application/json', messageId: m.messageId }, (err: unknown) =>
              err ? reject(err instanceof Error ? err : new Error('message nacked by the broker')) : resolve(),
            )
          }),
      )
    } finally {
      if (socket) uncorkAfterFlush(socket)
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no broker confirm within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([Promise.all(confirms), timeout])
    } catch (err) {
      this.dropOrdered()
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  private orderedChannel(): Promise<{ connection: CallbackConnection; channel: CallbackConfirmChannel }> {
    if (this.ordered) return this.ordered
    const broker = this.broker
    if (!broker) return Promise.reject(new Error('message broker not connected'))
    const opening = (async () => {
      // rascal hands out amqplib's callback-API connection.
      const connection = (await broker.connect('/')) as unknown as CallbackConnection
      // Whatever dies (the channel alone, e.g. after a channel error, or the connection), the
      // pair is given up and closed; the next call opens a new one.
      const reset = () => {
        if (this.ordered === opening) this.ordered = undefined
        void closeQuietly(connection)
      }
      connection.on('error', reset)
      connection.on('close', reset)
      try {
        const channel = await new Promise<CallbackConfirmChannel>((resolve, reject) => connection.createConfirmChannel((err, ch) => (err ? reject(err) : resolve(ch))))
        channel.on('error', reset)
        channel.on('close', reset)
        return { connection, channel }
      } catch (err) {
        void closeQuietly(connection)
        throw err
      }
    })()
    opening.catch(() => {
      if (this.ordered === opening) this.ordered = undefined
    })
    this.ordered = opening
    return opening
  }

  private dropOrdered(): void {
    const ordered = this.ordered
    this.ordered = undefined
    void ordered?.then(({ connection }) => closeQuietly(connection), () => undefined)
  }

  /** Consumes this gateway's hub queue (no acknowledgements, see config()). */
  async consumeHub(handler: (delivery: Delivery) => void): Promise<void> {
    const broker = this.broker
    if (!broker) throw new Error('message broker not connected')
    const subscription = await broker.subscribe('hub')
    subscription.on('message', (message, content) => handler({ routingKey: message.fields.routingKey, content }))
    subscription.on('error', (err: Error) => this.opts.log.warn({ err }, 'hub subscription error'))
    // Without acknowledgements there is nothing to nack: a nack of an unacknowledged-mode
    // delivery is a channel error that would take the (auto-delete) hub queue with it.
    subscription.on('invalid_content', (err: Error) => this.opts.log.warn({ err }, 'dropping an unparseable message'))
  }

  /** Starts a subscription of the extra topology; rascal re-subscribes after reconnects and channel errors. */
  async subscribe(name: string): Promise<SubscriberSessionAsPromised> {
    const broker = this.broker
    if (!broker) throw new Error('message broker not connected')
    return broker.subscribe(name)
  }

  /**
   * A connection of its own, opened through rascal (the same URL and socket settings),
   * for a consumer that manages its channel and acknowledgements itself (the archive's
   * BatchConsumer). The caller closes it.
   */
  async connect(): Promise<CallbackConnection> {
    const broker = this.broker
    if (!broker) throw new Error('message broker not connected')
    return (await broker.connect('/')) as unknown as CallbackConnection
  }

  /**
   * Forwards a message consumed from `queue` to a publication of the topology, as rascal's
   * own `forward` recovery strategy does (same headers, x-death dropped), and resolves once
   * the broker confirmed the copy. `forwarded` is written to the rascal recovery header,
   * where the next consumer reads the attempt count from.
   */
  async forward(publication: string, message: Message, queue: string, forwarded: number, error: string): Promise<void> {
    const broker = this.broker
    if (!broker) throw new Error('message broker not connected')
    const headers = { ...message.properties.headers } as Record<string, unknown>
    delete headers['x-death']
    const own = (headers.rascal ?? {}) as { recovery?: Record<string, object>; restoreRoutingHeaders?: boolean; originalExchange?: string; originalRoutingKey?: string }
    headers.rascal = { ...own, originalQueue: queue, recovery: { ...own.recovery, [queue]: { ...own.recovery?.[queue], forwarded } }, error: { message: error.slice(0, 1024) } }
    // After a trip through a delay queue the message arrives from '' with the work queue's
    // name as its routing key; like rascal's own subscriber, restore where it was first published.
    const fields = own.restoreRoutingHeaders && own.originalRoutingKey !== undefined ? { ...message.fields, exchange: own.originalExchange ?? '', routingKey: own.originalRoutingKey } : message.fields
    const copy = { ...message, fields, properties: { ...message.properties, headers } }
    const session = await broker.forward(publication, copy, { restoreRoutingHeaders: true } as never)
    await new Promise<void>((resolve, reject) => {
      session.on('success', () => resolve())
      session.on('error', (err: Error) => reject(err))
      session.on('return', () => reject(new Error(`message forwarded to ${publication} was returned`)))
    })
  }

  /**
   * Depth and consumer count of each named queue, asked of the broker on a
   * separate connection (queues that do not exist are left out).
   */
  async queueStats(names: string[]): Promise<Record<string, { messages: number; consumers: number }>> {
    const out: Record<string, { messages: number; consumers: number }> = {}
    if (!this.connected) return out
    // noDelay: each queue costs three round trips (open, check, close), ~40 ms apiece under Nagle.
    this.statsConnection ??= amqplib.connect(this.opts.url, { noDelay: true }).then((c) => {
      c.on('error', () => undefined)
      c.on('close', () => (this.statsConnection = undefined))
      return c
    })
    try {
      const connection = await this.statsConnection
      for (const name of names) {
        // A failed check closes its channel, so each queue gets its own.
        const channel = await connection.createChannel()
        channel.on('error', () => undefined)
        try {
          const q = await channel.checkQueue(name)
          out[name] = { messages: q.messageCount, consumers: q.consumerCount }
          await channel.close()
        } catch {
          // missing queue: nothing to report
        }
      }
    } catch (err) {
      this.statsConnection = undefined
      this.opts.log.warn({ err: (err as Error).message }, 'cannot read queue stats')
    }
    return out
  }

  async close(): Promise<void> {
    this.closed = true
    const stats = this.statsConnection
    this.statsConnection = undefined
    if (stats) await (await stats.catch(() => undefined))?.close().catch(() => undefined)
    const ordered = this.ordered
    this.ordered = undefined
    const orderedConnection = (await ordered?.catch(() => undefined))?.connection
    if (orderedConnection) await closeQuietly(orderedConnection)
    const broker = this.broker
    this.broker = undefined
    if (broker) await broker.shutdown().catch((err: unknown) => this.opts.log.warn({ err }, 'broker shutdown failed'))
  }
}

export function closeQuietly(connection: CallbackConnection): Promise<void> {
  return new Promise((resolve) => {
    try {
      connection.close(() => resolve())
    } catch {
      resolve() // already closed
    }
  })
}
