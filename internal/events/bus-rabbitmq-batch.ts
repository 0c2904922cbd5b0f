import type { Message } from 'amqplib'
import type { Channel, Connection } from 'amqplib/callback_api'
import type { BrokerAsPromised as Broker } from 'rascal'
import type { RoleConsumer } from './bus.js'
import { closeQuietly } from './bus-rabbitmq-channels.js'
import { runHandler } from './bus-rabbitmq-consumer.js'
import { deadPublication, delayPublication } from './bus-rabbitmq-topology.js'
import { PermanentError, type RoleHandler, type RoleLogger } from './roles.js'
import { afterFailure, type RetryPolicy, type RoleQueues } from './topology.js'

export interface RabbitBatchConsumerOptions {
  broker: Broker
  /** Opens a channel on a connection of its own. */
  open: () => Promise<{ connection: Connection; channel: Channel }>
  handler: RoleHandler
  names: RoleQueues
  prefetch: number
  retry: RetryPolicy
  log: RoleLogger
  /** First wait before reopening the channel after it died; doubles per failed try, up to 30 s. */
  reconnectMs?: number
}

interface Entry {
  message: Message
  /** Handled (or forwarded to a retry or dead-letter queue): acknowledge it. */
  ack: boolean
  /** Needs nothing more from this channel (acknowledged with the prefix, or already nacked). */
  settled: boolean
}

interface Session {
  connection: Connection
  channel: Channel
  consumerTag: string | undefined
  /** Deliveries of this channel in delivery-tag order, until their acknowledgement. */
  pending: Entry[]
  flushScheduled: boolean
  dead: boolean
}

/**
 * Runs a role whose handler settles messages in bursts (the archive) on a channel
 * of its own, acknowledging in delivery order with one `multiple` acknowledgement
 * per burst instead of one frame per message. A classic queue removes
 * acknowledgements that arrive out of delivery order by walking its list of
 * unacknowledged messages, so with thousands outstanding, per-message acks of
 * batches finishing out of order stalled delivery (docs/benchmarks.md).
 *
 * Otherwise as RabbitConsumer: acknowledged only after the handler resolved; a
 * failure is forwarded (confirmed) to its delay queue or the dead letters, and
 * acknowledged only then. If the channel dies, the broker requeues everything
 * unacknowledged and the handler's idempotency by event id absorbs the redelivery.
 */
export class RabbitBatchConsumer implements RoleConsumer {
  private session: Session | undefined
  private stopping = false
  private opening: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private inflight = 0
  private settledAll: (() => void) | undefined
  private stopped: Promise<void> | undefined
  readonly counters = { acked: 0, retried: 0, deadLettered: 0 }

  constructor(private readonly opts: RabbitBatchConsumerOptions) {}

  get role(): string {
    return this.opts.handler.role
  }

  get inFlight(): number {
    return this.inflight
  }

  /** The connection under the current channel (tests cut it to simulate a crash). */
  get connection(): Connection | undefined {
    return this.session?.connection
  }

  async start(): Promise<void> {
    await this.open()
  }

  private open(): Promise<void> {
    this.opening ??= this.openSession().finally(() => (this.opening = undefined))
    return this.opening
  }

  private async openSession(): Promise<void> {
    const { names, prefetch, log, handler } = this.opts
    const { connection, channel } = await this.opts.open()
    const session: Session = { connection, channel, consumerTag: undefined, pending: [], flushScheduled: false, dead: false }
    const lost = (err?: Error) => {
      if (session.dead) return
      session.dead = true
      if (this.session === session) this.session = undefined
      void closeQuietly(connection)
      this.releaseWaiters()
      if (this.stopping) return
      log.warn({ role: handler.role, err: err?.message }, 'consumer channel lost; the broker requeues what was not acknowledged, reopening')
      this.scheduleReopen()
    }
    connection.on('error', lost)
    connection.on('close', () => lost())
    channel.on('error', lost)
    channel.on('close', () => lost())
    try {
      channel.prefetch(prefetch)
      this.session = session
      session.consumerTag = await new Promise<string>((resolve, reject) =>
        channel.consume(names.work, (message) => (message ? this.onMessage(session, message) : lost(new Error('consumer cancelled by the broker'))), { noAck: false }, (err, ok) =>
          err ? reject(err) : resolve(ok.consumerTag),
        ),
      )
    } catch (err) {
      lost(err as Error)
      throw err
    }
  }

  private scheduleReopen(failures = 0): void {
    clearTimeout(this.retryTimer)
    const first = this.opts.reconnectMs ?? 1_000
    this.retryTimer = setTimeout(() => {
      if (this.stopping || this.session) return
      this.open().catch((err: Error) => {
        this.opts.log.warn({ role: this.role, err: err.message, failures: failures + 1 }, 'cannot reopen the consumer channel yet')
        this.scheduleReopen(failures + 1)
      })
    }, Math.min(first * 2 ** failures, Math.max(first, 30_000)))
  }

  private onMessage(session: Session, message: Message): void {
    const entry: Entry = { message, ack: false, settled: false }
    session.pending.push(entry)
    let content: unknown
    try {
      content = JSON.parse(message.content.toString('utf8'))
    } catch {
      this.fail(session, entry, new PermanentError('unparseable message'), 1, true)
      return
    }
    this.inflight++
    void runHandler(this.opts, message, content).then((outcome) => {
      this.inflight--
      if (outcome.ok) {
        this.counters.acked++
        this.done(session, entry)
      } else {
        this.fail(session, entry, outcome.err, outcome.attempt, outcome.permanent)
      }
    })
  }

  /**
   * Forwards a failed message to its delay or dead-letter queue, then acknowledges it.
   * If the forward fails, the message is rejected without requeue: the work queue
   * dead-letters it, instead of it coming straight back in a loop.
   */
  private fail(session: Session, entry: Entry, err: Error, attempt: number, permanent: boolean): void {
    if (session.dead) {
      // The broker has already requeued it with the rest of the channel's deliveries.
      entry.settled = true
      return
    }
    const next = afterFailure(this.opts.retry, attempt, permanent)
    const names = this.opts.names
    const publication = next.dead ? deadPublication(names) : delayPublication(`${names.work}.retry.${next.delayMs}ms`)
    this.forward(publication, entry.message, attempt, err.message).then(
      () => {
        if (next.dead) this.counters.deadLettered++
        else this.counters.retried++
        this.done(session, entry)
      },
      (forwardErr: Error) => {
        this.opts.log.warn({ role: this.role, err: forwardErr.message }, 'could not forward a failed message; rejecting it into the dead-letter queue')
        if (!session.dead) {
          session.channel.nack(entry.message, false, false)
          this.counters.deadLettered++
        }
        entry.settled = true
        this.flushSoon(session)
      },
    )
  }

  /**
   * Forwards a copy as rascal's own `forward` recovery does (same headers, x-death
   * dropped, `forwarded` written to rascal's recovery header, where the next
   * consumer reads the attempt count from) and resolves once it is confirmed.
   */
  private async forward(publication: string, message: Message, forwarded: number, error: string): Promise<void> {
    const queue = this.opts.names.work
    const headers = { ...message.properties.headers } as Record<string, unknown>
    delete headers['x-death']
    const own = (headers.rascal ?? {}) as { recovery?: Record<string, object>; restoreRoutingHeaders?: boolean; originalExchange?: string; originalRoutingKey?: string }
    headers.rascal = { ...own, originalQueue: queue, recovery: { ...own.recovery, [queue]: { ...own.recovery?.[queue], forwarded } }, error: { message: error.slice(0, 1024) } }
    // After a trip through a delay queue the message arrives from '' with the work queue's
    // name as its routing key; like rascal's own subscriber, restore where it was first published.
    const fields = own.restoreRoutingHeaders && own.originalRoutingKey !== undefined ? { ...message.fields, exchange: own.originalExchange ?? '', routingKey: own.originalRoutingKey } : message.fields
    const copy = { ...message, fields, properties: { ...message.properties, headers } }
    const session = await this.opts.broker.forward(publication, copy, { restoreRoutingHeaders: true } as never)
    await new Promise<void>((resolve, reject) => {
      session.on('success', () => resolve())
      session.on('error', (err: Error) => reject(err))
      session.on('return', () => reject(new Error(`message forwarded to ${publication} was returned`)))
    })
  }

  private done(session: Session, entry: Entry): void {
    entry.ack = true
    entry.settled = true
    this.flushSoon(session)
  }

  /** Coalesces the acknowledgements of everything that finished in this turn of the event loop. */
  private flushSoon(session: Session): void {
    if (session.flushScheduled) return
    session.flushScheduled = true
    setImmediate(() => {
      session.flushScheduled = false
      this.flush(session)
    })
  }

  /** Acknowledges the finished prefix of the deliveries with one `multiple` acknowledgement. */
  private flush(session: Session): void {
    const pending = session.pending
    let settled = 0
    let last: Message | undefined
    while (settled < pending.length && pending[settled]!.settled) {
      if (pending[settled]!.ack) last = pending[settled]!.message
      settled++
    }
    if (settled === 0) return
    pending.splice(0, settled)
    // A dead channel's deliveries were requeued by the broker: nothing to acknowledge.
    if (last && !session.dead) session.channel.ack(last, true)
    if (pending.length === 0) this.releaseWaiters()
  }

  private releaseWaiters(): void {
    if (this.session && this.session.pending.length > 0) return
    this.settledAll?.()
    this.settledAll = undefined
  }

  /** Cancels the consumer, finishes what was delivered (flushing a partial batch), waits for its acknowledgement, closes. */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown()
    return this.stopped
  }

  private async shutdown(): Promise<void> {
    this.stopping = true
    clearTimeout(this.retryTimer)
    await this.opening?.catch(() => undefined)
    const session = this.session
    if (session?.consumerTag) {
      const tag = session.consumerTag
      await answered(session.channel, (done) => session.channel.cancel(tag, done))
    }
    await this.opts.handler.flush?.()
    if (session && !session.dead && session.pending.length > 0) {
      // Released by the last acknowledgement, or by the channel's loss (its deliveries are requeued).
      await new Promise<void>((resolve) => (this.settledAll = resolve))
    }
    if (session && !session.dead) {
      session.dead = true
      // The channel first: its close handshake follows the acknowledgements written on it,
      // whereas closing the connection at once can overtake them (they would be requeued).
      await answered(session.channel, (done) => session.channel.close(done))
      await closeQuietly(session.connection)
    }
    this.session = undefined
    await this.opts.handler.close?.()
  }
}

/**
 * Runs a channel operation the broker answers (cancel, close) and resolves when it
 * is answered, when the channel closes instead, or after 10 s: a connection lost
 * mid-handshake never calls back.
 */
function answered(channel: Channel, op: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(finish, 10_000)
    function finish() {
      clearTimeout(timer)
      channel.removeListener('close', finish)
      resolve()
    }
    channel.once('close', finish)
    try {
      op(finish)
    } catch {
      finish() // already closed
    }
  })
}
