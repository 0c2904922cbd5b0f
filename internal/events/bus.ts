import type { EventEnvelope } from './envelope.js'
import type { RoleHandler } from './roles.js'

/** An event on the bus, routed by its type. */
export interface BusMessage {
  event: EventEnvelope
  /**
   * The instance id of the process whose commit recorded the event (live events:
   * the process that saw them). That process has already routed it to its own
   * clients, so its hub skips the copy that comes back through the bus.
   */
  origin?: string
}

/** What a role's consumer reports to operators. */
export interface RoleConsumer {
  readonly role: string
  /** Messages handed to the handler and not yet settled. */
  readonly inFlight: number
  readonly counters: { acked: number; retried: number; deadLettered: number }
  /** Stops taking messages, finishes what was handed out and settles it; the rest stays queued. */
  stop(): Promise<void>
}

export interface ConsumeOptions {
  /** Messages handed out and not yet settled, at most. */
  prefetch: number
  /**
   * The handler settles messages in bursts (it buffers and resolves many at once,
   * like the archive): acknowledge them in delivery order, a burst at a time.
   */
  batched?: boolean
}

/** How long probe() and queueStats() wait for the broker by default; under the 2 s a readiness check gets. */
export const PROBE_TIMEOUT_MS = 1_500

export interface QueueStat {
  messages: number
  consumers: number
  /** Messages waiting out a retry delay. */
  retrying: number
  deadLetters: number
}

/**
 * The event bus: a topic exchange of package events (routing key = event type)
 * with a live fan-out to every process's hub and one durable work queue per worker
 * role. Implemented by RabbitMQ (bus-rabbitmq.ts) and in memory (bus-memory.ts);
 * bus-contract.ts is the suite both pass.
 */
export interface Bus {
  /** True while messages can be published (false during a broker outage). */
  readonly connected: boolean
  /**
   * Called each time the bus (re)connects; `downSince` is when the previous
   * connection was lost (undefined on the first connection). Fan-out messages
   * published in between were not delivered to this process.
   */
  onConnected(listener: (downSince: Date | undefined) => void): void
  /**
   * Publishes the messages in the given order and resolves once the bus holds every
   * one durably (broker confirms). Rejects, never hangs, when it cannot: the caller
   * keeps the events and publishes them again (at-least-once).
   */
  publish(messages: readonly BusMessage[]): Promise<void>
  /**
   * Receives every message published while this process is connected, in publish
   * order, once (the hub). Not durable: what was published during an outage is not
   * replayed here (read it from the event log after onConnected).
   */
  subscribe(handler: (message: BusMessage) => void): Promise<void>
  /**
   * Runs a worker role over its durable queue. A message is settled only after the
   * handler's promise: resolved, it is acknowledged; rejected, it waits out the next
   * retry delay and comes back with `attempt` + 1; a PermanentError, or a failure
   * on the last attempt, sends it to the role's dead letters. Per package, messages
   * are handed out in publish order (a retry may overtake later ones).
   */
  consume(handler: RoleHandler, opts: ConsumeOptions): Promise<RoleConsumer>
  /**
   * Depth, consumers, retrying and dead letters of each declared role's queue.
   * Rejects, never hangs, when the bus cannot tell: not connected, or no answer
   * within `timeoutMs` (default PROBE_TIMEOUT_MS).
   */
  queueStats(timeoutMs?: number): Promise<Record<string, QueueStat>>
  /**
   * Resolves once the broker has answered a round trip (RabbitMQ: a passive
   * declare of the exchange). Rejects when not connected, or with a TimeoutError
   * when no answer came within `timeoutMs` (default PROBE_TIMEOUT_MS): a broker
   * that accepts TCP but answers nothing looks connected until its heartbeat
   * lapses, and readiness must see it sooner.
   */
  probe(timeoutMs?: number): Promise<void>
  /**
   * Moves a role's dead letters back to its work queue with a fresh retry budget
   * (at most `limit`, and only those present at the start).
   */
  requeueDeadLetters(role: string, limit?: number): Promise<{ requeued: number; remaining: number }>
  /** Connects (in the background for a broker: retries until close). */
  start(): Promise<void>
  close(): Promise<void>
}
