import { REQUEST_HEADER } from './queue-topology.js'
import type { Channel, Connection, Message } from 'amqplib/callback_api'
import type { RoleLogger } from '../events/roles.js'
import { closeQuietly } from '../events/bus-rabbitmq-channels.js'

/** One queue consumed in delivery order, one message at a time: `step` resolves, the message is acknowledged. */
export interface Lane {
  queue: string
  step(message: Message): Promise<void>
}

export interface OrderedConsumerOptions {
  /** A channel on a connection of its own (rascal's connection settings). */
  open(): Promise<{ connection: Connection; channel: Channel }>
  lanes: Lane[]
  prefetch: number
  log: RoleLogger
  /** First wait before reopening a lost connection (doubling, at most 10 s). */
  reconnectMs?: number
}

/**
 * Consumes single-active-consumer queues so that a package's order survives a
 * hand-over. Stopping never cancels a consumer first: with a single active
 * consumer, a cancel would let the next worker start on later messages while this
 * one still held earlier ones. Instead the worker finishes the message in hand,
 * leaves the rest unacknowledged and closes its connection; the broker then puts
 * them back at the head of the queue as it removes the consumer (as after a crash).
 */
export class OrderedConsumer {
  private connection: Connection | undefined
  private stopping = false
  private chains: Array<Promise<void>> = []
  private generation = 0

  constructor(private readonly opts: OrderedConsumerOptions) {}

  async start(): Promise<void> {
    await this.connect()
  }

  private async connect(): Promise<void> {
    const { connection, channel } = await this.opts.open()
    const generation = ++this.generation
    this.connection = connection
    let lost = false
    const onLost = () => {
      if (lost) return
      lost = true
      void closeQuietly(connection)
      if (!this.stopping && this.generation === generation) void this.reconnect()
    }
    connection.on('error', () => undefined)
    connection.on('close', onLost)
    channel.on('error', () => undefined)
    channel.on('close', onLost)
    channel.prefetch(this.opts.prefetch, false)
    this.chains = []
    for (const [index, lane] of this.opts.lanes.entries()) {
      this.chains.push(Promise.resolve())
      await new Promise<void>((resolve, reject) =>
        channel.consume(lane.queue, (message) => {
          if (!message) return // cancelled by the broker (queue deleted): the connection goes too
          this.chains[index] = this.chains[index]!.then(() => this.handle(channel, lane, message, generation))
        }, { noAck: false }, (err) => (err ? reject(err as Error) : resolve())),
      )
    }
  }

  private async handle(channel: Channel, lane: Lane, message: Message, generation: number): Promise<void> {
    // Stopping or reconnected: leave it unacknowledged; the closing channel requeues it in place.
    if (this.stopping || generation !== this.generation) return
    try {
      await lane.step(message)
      channel.ack(message)
    } catch (err) {
      // Not even a retry could be published: hold the lane a moment, then put it back where it was.
      const requestId = message.properties.headers?.[REQUEST_HEADER] as string | undefined
      this.opts.log.warn({ queue: lane.queue, messageId: message.properties.messageId, requestId, err: (err as Error).message }, 'status update not settled; requeued')
      await new Promise((r) => setTimeout(r, 1_000).unref())
      if (generation === this.generation) channel.nack(message, false, true)
    }
  }

  private async reconnect(): Promise<void> {
    let delay = this.opts.reconnectMs ?? 1_000
    while (!this.stopping) {
      await new Promise((r) => setTimeout(r, delay).unref())
      if (this.stopping) return
      try {
        await this.connect()
        this.opts.log.info({}, 'status updates: consuming again')
        return
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message, retryInMs: delay }, 'status updates: cannot consume yet; retrying')
        delay = Math.min(delay * 2, 10_000)
      }
    }
  }

  /** Finishes the message in hand on each lane, then closes: what is left goes back to the queues' heads. */
  async stop(): Promise<void> {
    this.stopping = true
    await Promise.all(this.chains)
    const connection = this.connection
    this.connection = undefined
    if (connection) await closeQuietly(connection)
  }
}
