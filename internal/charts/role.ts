import { PermanentError, type Delivery, type RoleHandler, type RoleLogger } from '../events/roles.js'
import { foldEvents } from './domain.js'
import type { MetricsStore } from './ports.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The `metrics` role: each durable event moves the daily aggregates. The event is
 * read back from the log by id, so only what the log holds counts, in seq order
 * per package, once (see MetricsStore.countThrough).
 */
export class MetricsRole implements RoleHandler {
  readonly role = 'metrics'
  readonly counters = { counted: 0, duplicates: 0, unknown: 0 }

  constructor(private readonly deps: { store: MetricsStore; log: RoleLogger }) {}

  async handle({ event }: Delivery): Promise<void> {
    if (event.seq === undefined) return // live-only events are not in the log
    if (!UUID.test(event.id)) throw new PermanentError(`event id "${event.id}" is not a uuid`)
    const result = await this.deps.store.countThrough(event.id, foldEvents)
    if (result === 'counted') this.counters.counted++
    else if (result === 'duplicate') this.counters.duplicates++
    else {
      this.counters.unknown++
      this.deps.log.warn({ eventId: event.id, trackingNumber: event.trackingNumber }, 'event not in the log (package purged?): not counted')
    }
  }
}
