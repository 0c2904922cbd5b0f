import { PermanentError, type Delivery, type RoleHandler, type RoleLogger } from '../events/roles.js'
import { draftFor } from './domain.js'
import type { Announcer, NotificationRepository } from './ports.js'

export interface InboxRoleDeps {
  notifications: NotificationRepository
  announcer: Announcer
  log: RoleLogger
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The inbox worker role: each event that concerns people becomes one notification
 * per user, written in one statement, then announced live. Idempotent by event id
 * (the table's unique key): a redelivery after a crash between the write and the
 * acknowledgement writes nothing and announces nothing twice.
 */
export class InboxRole implements RoleHandler {
  readonly role = 'inbox'
  readonly counters = { events: 0, created: 0, announced: 0 }

  constructor(private readonly deps: InboxRoleDeps) {}

  async handle({ event }: Delivery): Promise<void> {
    const draft = draftFor(event)
    if (!draft) return
    // Retrying would not make these valid: a uuid column refuses them every time.
    if (!UUID.test(event.id)) throw new PermanentError(`event id "${event.id}" is not a uuid`)
    if (draft.audience.kind === 'user' && !UUID.test(draft.audience.userId)) throw new PermanentError(`user id "${draft.audience.userId}" is not a uuid`)
    const delivered = await this.deps.notifications.fanOut(draft)
    this.counters.events++
    this.counters.created += delivered.length
    if (delivered.length === 0) return
    // The rows are committed: a failed notice must not have the event retried, which would find them and announce nothing.
    try {
      await this.deps.announcer.announce(delivered)
      this.counters.announced += delivered.length
    } catch (err) {
      this.deps.log.warn({ err, eventId: event.id, notifications: delivered.length }, 'notifications written but not announced live')
    }
  }
}
