import type { EventEnvelope } from './envelope.js'

/** One event handed to a worker role, with where it stands in its retry budget. */
export interface Delivery {
  event: EventEnvelope
  /** 1 on the first try; grows each time the message comes back after a retry delay. */
  attempt: number
  /** True on the last attempt: a failure now dead-letters the message. */
  final: boolean
}

/**
 * A worker role. `handle` resolves once the event's work is done and durable (the
 * message is acknowledged only then) and rejects to have it retried later;
 * handlers are idempotent by event id, because delivery is at-least-once.
 */
export interface RoleHandler {
  readonly role: string
  handle(delivery: Delivery): Promise<void>
  /** Finish buffered work now instead of waiting for a timer (shutdown). */
  flush?(): Promise<void>
  /** Release timers and clients after the last message was settled. */
  close?(): Promise<void>
}

/** A failure that no retry can cure (a malformed event): the message is dead-lettered at once. */
export class PermanentError extends Error {
  override name = 'PermanentError'
}

export interface RoleLogger {
  info(o: object, m: string): void
  warn(o: object, m: string): void
  error(o: object, m: string): void
}
