import type { EventEnvelope } from './envelope.js'

/** An event of the log with the process that recorded it (see BusMessage.origin). */
export interface LoggedEvent {
  event: EventEnvelope
  origin?: string
}

/** Reads of the durable event log that the real-time side needs. */
export interface EventLogReader {
  /** The current package with the number's durable events after `afterSeq`, in seq order. */
  since(trackingNumber: string, afterSeq: number): Promise<EventEnvelope[]>
  /** Events recorded at or after the moment, each package's in seq order (catch-up after an outage). */
  recordedSince(at: Date): Promise<LoggedEvent[]>
}

/**
 * The unpublished end of the event log. Several relays (one per gateway) may drain
 * it at once: each package's events are published in seq order, never overtaking
 * each other, and a batch is stamped published only after its publish resolved
 * (at-least-once: a crash in between publishes it again).
 */
export interface Outbox {
  /**
   * Claims up to `limit` unpublished events (for each package only the unbroken run
   * from its lowest unpublished seq), passes them to `publish` in seq order per
   * package, and stamps them published if it resolves. Returns how many it published.
   */
  drain(limit: number, publish: (batch: LoggedEvent[]) => Promise<void>): Promise<number>
  /**
   * Calls `wake` whenever another process appends events, until the returned stop
   * function is called. Optional: without it the relay relies on its kicks and sweep.
   */
  listen?(wake: () => void): Promise<() => Promise<void>>
}
