import { withRequestId } from '../platform/request-context.js'
import type { Bus, BusMessage, ConsumeOptions, QueueStat, RoleConsumer } from './bus.js'
import { PermanentError, type RoleHandler, type RoleLogger } from './roles.js'
import { afterFailure, topicMatches, type RetryPolicy } from './topology.js'

export interface MemoryBusOptions {
  /** The work queues to keep, each with the routing-key patterns it receives. */
  queues: ReadonlyArray<{ role: string; bindings: readonly string[] }>
  retry: RetryPolicy
  log: RoleLogger
  /** How long a consumer's stop() keeps handling what is queued before giving up on it (default 10 s). */
  drainOnStopMs?: number
}

interface Queued {
  message: BusMessage
  attempt: number
}

interface Queue {
  role: string
  bindings: readonly string[]
  ready: Queued[]
  dead: Queued[]
  retrying: Set<NodeJS.Timeout>
  consumers: MemoryConsumer[]
}

/**
 * The bus inside one process, for the embedded mode: the same routing, retry
 * delays, dead letters and ordering as RabbitMQ, with nothing to install. Queues
 * live as long as the process, so a consumer's stop() first handles what is
 * queued (up to drainOnStopMs); what a crash leaves unhandled is gone from the
 * queues (the event log still has every durable event).
 */
export class MemoryBus implements Bus {
  private readonly queues = new Map<string, Queue>()
  private readonly subscribers: Array<(m: BusMessage) => void> = []
  private readonly listeners: Array<(downSince: Date | undefined) => void> = []
  private started = false
  private closed = false

  constructor(private readonly opts: MemoryBusOptions) {
    for (const q of opts.queues) this.queues.set(q.role, { role: q.role, bindings: q.bindings, ready: [], dead: [], retrying: new Set(), consumers: [] })
  }

  get connected(): boolean {
    return this.started && !this.closed
  }

  onConnected(listener: (downSince: Date | undefined) => void): void {
    this.listeners.push(listener)
    if (this.connected) listener(undefined)
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    for (const l of this.listeners) l(undefined)
  }

  async publish(messages: readonly BusMessage[]): Promise<void> {
    if (!this.connected) throw new Error('the in-process bus is not running')
    // Delivered after the publisher's turn, as a broker would: a handler never runs inside publish().
    const batch = [...messages]
    setImmediate(() => {
      for (const m of batch) for (const s of this.subscribers) s(m)
    })
    for (const q of this.queues.values()) {
      let added = false
      for (const m of batch) {
        if (!q.bindings.some((b) => topicMatches(b, m.event.type))) continue
        q.ready.push({ message: m, attempt: 1 })
        added = true
      }
      if (added) this.dispatchSoon(q)
    }
  }

  async subscribe(handler: (message: BusMessage) => void): Promise<void> {
    this.subscribers.push(handler)
  }

  async consume(handler: RoleHandler, opts: ConsumeOptions): Promise<RoleConsumer> {
    const q = this.queues.get(handler.role)
    if (!q) throw new Error(`no queue declared for role "${handler.role}"`)
    const consumer = new MemoryConsumer(handler, opts.prefetch, this.opts.retry.maxAttempts, q, this, this.opts.log, this.opts.drainOnStopMs ?? 10_000)
    q.consumers.push(consumer)
    this.dispatchSoon(q)
    return consumer
  }

  /** @internal Hands ready messages to consumers with room, round-robin. */
  dispatch(q: Queue): void {
    if (this.closed) return
    let progress = true
    while (q.ready.length > 0 && progress) {
      progress = false
      for (const c of q.consumers) {
        if (q.ready.length === 0) break
        if (!c.hasRoom) continue
        c.run(q.ready.shift()!)
        progress = true
      }
    }
  }

  private dispatchSoon(q: Queue): void {
    queueMicrotask(() => this.dispatch(q))
  }

  /** @internal A failed message: back after its delay, or to the dead letters. */
  settleFailure(q: Queue, item: Queued, err: Error): 'retried' | 'dead' {
    const next = afterFailure(this.opts.retry, item.attempt, err instanceof PermanentError)
    if (next.dead) {
      q.dead.push(item)
      return 'dead'
    }
    const timer = setTimeout(() => {
      q.retrying.delete(timer)
      q.ready.push({ message: item.message, attempt: item.attempt + 1 })
      this.dispatch(q)
    }, next.delayMs)
    timer.unref()
    q.retrying.add(timer)
    return 'retried'
  }

  /** @internal */
  detach(q: Queue, consumer: MemoryConsumer): void {
    q.consumers = q.consumers.filter((c) => c !== consumer)
  }

  async probe(): Promise<void> {
    if (!this.connected) throw new Error('the in-process bus is not running')
  }

  async queueStats(): Promise<Record<string, QueueStat>> {
    if (!this.connected) throw new Error('the in-process bus is not running')
    const out: Record<string, QueueStat> = {}
    for (const q of this.queues.values()) {
      out[`delivertrack.${q.role}`] = { messages: q.ready.length, consumers: q.consumers.length, retrying: q.retrying.size, deadLetters: q.dead.length }
    }
    return out
  }

  async requeueDeadLetters(role: string, limit = Number.POSITIVE_INFINITY): Promise<{ requeued: number; remaining: number }> {
    const q = this.queues.get(role)
    if (!q) throw new Error(`no queue declared for role "${role}"`)
    const moved = q.dead.splice(0, Math.min(q.dead.length, limit))
    for (const item of moved) q.ready.push({ message: item.message, attempt: 1 })
    this.dispatch(q)
    return { requeued: moved.length, remaining: q.dead.length }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const q of this.queues.values()) for (const timer of q.retrying) clearTimeout(timer)
  }
}

class MemoryConsumer implements RoleConsumer {
  private inflight = 0
  private stopping = false
  private idle: (() => void) | undefined
  readonly counters = { acked: 0, retried: 0, deadLettered: 0 }

  constructor(
    private readonly handler: RoleHandler,
    private readonly prefetch: number,
    private readonly maxAttempts: number,
    private readonly queue: Queue,
    private readonly bus: MemoryBus,
    private readonly log: RoleLogger,
    private readonly drainMs: number,
  ) {}

  get role(): string {
    return this.handler.role
  }

  get inFlight(): number {
    return this.inflight
  }

  get hasRoom(): boolean {
    return !this.stopping && this.inflight < this.prefetch
  }

  run(item: Queued): void {
    this.inflight++
    const final = item.attempt >= this.maxAttempts
    const { event } = item.message
    // As on RabbitMQ: the handler's work belongs to the request that caused the event.
    withRequestId(event.requestId, () => this.handler.handle({ event, attempt: item.attempt, final }))
      .then(
        () => {
          this.counters.acked++
        },
        (caught: unknown) => {
          const err = caught instanceof Error ? caught : new Error(String(caught))
          const outcome = this.bus.settleFailure(this.queue, item, err)
          if (outcome === 'dead') this.counters.deadLettered++
          else this.counters.retried++
          this.log.warn({ role: this.role, eventId: event.id, requestId: event.requestId, attempt: item.attempt, err: err.message }, outcome === 'dead' ? 'event dead-lettered' : 'event failed; retrying later')
        },
      )
      .finally(() => {
        this.inflight--
        if (this.inflight === 0) this.idle?.()
        this.bus.dispatch(this.queue)
      })
  }

  async stop(): Promise<void> {
    // Nothing keeps the queue once the process ends: handle what is there first.
    const deadline = Date.now() + this.drainMs
    while ((this.queue.ready.length > 0 || this.inflight > 0) && Date.now() < deadline) {
      await this.handler.flush?.()
      await new Promise((r) => setTimeout(r, 10))
    }
    if (this.queue.ready.length > 0) this.log.warn({ role: this.role, left: this.queue.ready.length }, 'stopping with messages still queued in memory; they are not handled')
    this.stopping = true
    this.bus.detach(this.queue, this)
    await this.handler.flush?.()
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.idle = resolve))
    await this.handler.close?.()
  }
}
