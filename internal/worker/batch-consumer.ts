import type { Message } from 'amqplib'
import type { Channel as CallbackChannel, Connection as CallbackConnection } from 'amqplib/callback_api'
import { closeQuietly } from '../platform/bus/rascal.js'
import { retryPublication, type WorkerQueueNames } from '../platform/bus/worker-topology.js'
import { PermanentError, runHandler, type RoleHandler, type WorkerLogger } from './delivery.js'

/** What the batch consumer needs of the bus (RascalBus): its own connection, and rascal's confirmed forward. */
export interface BatchBus {
  connect(): Promise<CallbackConnection>
  forward(publication: string, message: Message, queue: string, forwarded: number, error: string): Promise<void>
}

export interface BatchConsumerOptions {
  bus: BatchBus
  handler: RoleHandler
  names: WorkerQueueNames
  prefetch: number
  maxAttempts: number
  delaysMs: readonly number[]
  log: WorkerLogger
  /** First wait before reopening the channel after it or its connection died; doubles per failed try, up to 30 s. */
  reconnectMs?: number
}

interface Entry {
  message: Message
  /** The message was handled (or forwarded to a retry or dead-letter queue): acknowledge it. */
  ack: boolean
  /** The message needs nothing more from this channel (acknowledged with the prefix, or already nacked). */
  settled: boolean
}

interface Session {
  connection: CallbackConnection
  channel: CallbackChannel
  consumerTag: string | undefined
  /** Deliveries of this channel in delivery-tag order, until their acknowledgement. */
  pending: Entry[]
  flushScheduled: boolean
  dead: boolean
}

/**
 * Runs a high-volume role (the archive) on a channel of its own, acknowledging in
 * delivery order with one `multiple` acknowledgement per burst of finished work
 * instead of one frame per message. Two reasons, both measured (docs/benchmarks.md):
 * rascal acknowledges every message on its own, which caps a queue at ~14-23k
 * messages/s here; and a RabbitMQ classic queue subtracts acknowledgements that do
 * not come in delivery order from a linear list, so batches finishing out of order
 * with thousands of messages unacknowledged stalled delivery for 10-30 s at a time.
 *
 * The rest is as in Consumer: a message is acknowledged only after the handler
 * resolved, and a failure is forwarded by rascal (confirmed) to the next delay
 * queue or, at the last attempt or when permanent, to the dead-letter queue, and
 * acknowledged only then. If the channel dies, the broker requeues everything
 * unacknowledged and the handlers' idempotency by event id absorbs the redelivery.
 */
export class BatchConsumer {
  private session: Session | undefined
  private stopping = false
  private opening: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private inflight = 0
  private settledAll: (() => void) | undefined
  private stopped: Promise<void> | undefined
  readonly counters = { acked: 0, retried: 0, deadLettered: 0 }

  constructor(private readonly opts: BatchConsumerOptions) {}

  get role() {
    return this.opts.handler.role
  }

  get inFlight(): number {
    return this.inflight
  }

  async start(): Promise<void> {
    await this.open()
  }

  private open(): Promise<void> {
    this.opening ??= this.openSession().finally(() => (this.opening = undefined))
    return this.opening
  }

  private async openSession(): Promise<void> {
    const { bus, names, prefetch, log, handler } = this.opts
    const connection = await bus.connect()
    const session: Session = { connection, channel: undefined as never, consumerTag: undefined, pending: [], flushScheduled: false, dead: false }
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
    try {
      session.channel = await new Promise<CallbackChannel>((resolve, reject) => connection.createChannel((err, ch) => (err ? reject(err) : resolve(ch))))
      session.channel.on('error', lost)
      session.channel.on('close', () => lost())
      session.channel.prefetch(prefetch)
      this.session = session
      session.consumerTag = await new Promise<string>((resolve, reject) =>
        session.channel.consume(names.work, (message) => (message ? this.onMessage(session, message) : lost(new Error('consumer cancelled by the broker'))), { noAck: false }, (err, ok) =>
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
    const { handler, log, names, maxAttempts } = this.opts
    this.inflight++
    void runHandler({ handler, log, workQueue: names.work, maxAttempts }, message, content).then((outcome) => {
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
   * If the forward fails (broker trouble, a returned publication), the message is
   * rejected without requeue: the work queue dead-letters it into `<queue>.dead`, as
   * rascal's own recovery chain ends, instead of coming straight back in a loop.
   */
  private fail(session: Session, entry: Entry, err: Error, attempt: number, permanent: boolean): void {
    const { names, maxAttempts, delaysMs, bus } = this.opts
    if (session.dead) {
      // The broker has already requeued it with the rest of the channel's deliveries.
      entry.settled = true
      return
    }
    const dead = permanent || attempt >= maxAttempts
    const publication = retryPublication(names, attempt, maxAttempts, delaysMs, permanent)
    bus.forward(publication, entry.message, names.work, attempt, err.message).then(
      () => {
        if (dead) this.counters.deadLettered++
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

  /**
   * Graceful stop: cancel the consumer (nothing new is delivered), finish what was
   * delivered (flushing a partial batch), wait until it is acknowledged, close.
   */
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
      await closing(session.channel, (done) => session.channel.cancel(tag, done))
    }
    await this.opts.handler.flush?.()
    if (session && !session.dead && session.pending.length > 0) {
      // Released by the last acknowledgement, or by the channel's loss (its deliveries are requeued).
      await new Promise<void>((resolve) => (this.settledAll = resolve))
    }
    if (session && !session.dead) {
      session.dead = true
      // The channel first: its close handshake comes after the acknowledgements written on
      // it, whereas closing the connection at once can overtake them (they would be requeued).
      await closing(session.channel, (done) => session.channel.close(done))
      await closeQuietly(session.connection)
    }
    this.session = undefined
    await this.opts.handler.close?.()
  }
}

/**
 * Runs an amqplib callback operation that is answered by the broker (cancel, close)
 * and resolves when it is answered, when the channel closes instead, or after 10 s:
 * a connection lost mid-handshake never calls the callback.
 */
function closing(channel: CallbackChannel, op: (done: () => void) => void): Promise<void> {
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
