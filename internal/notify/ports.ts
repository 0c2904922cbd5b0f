import type { EventEnvelope } from '../events/envelope.js'

/** Sends one customer notification for an event (SNS). Rejects when it could not be handed over. */
export interface Notifier {
  publish(event: EventEnvelope): Promise<void>
}

/** Events a consumer has finished with: the at-least-once bus becomes at-most-once sends per event id. */
export interface Receipts {
  seen(consumer: string, eventId: string): Promise<boolean>
  /** Idempotent. */
  record(consumer: string, eventId: string): Promise<void>
  prune(before: Date): Promise<number>
}
