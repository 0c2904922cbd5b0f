import { PermanentError, type Delivery, type RoleHandler, type RoleLogger as WorkerLogger } from '../events/roles.js'
import type { Notifier, Receipts } from './ports.js'

export interface NotifyDeps {
  /** Unset (no SNS_TOPIC_ARN): notifications are off and events are drained without sending. */
  notifier: Notifier | undefined
  receipts: Receipts
  retentionMs: number
  log: WorkerLogger
}

const CONSUMER = 'notify'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The notify role: each `package.status_changed` goes to the SNS topic once per
 * event id. The receipt is written after SNS accepted the message, so a crash in
 * between can send it twice (FIFO topics also deduplicate by event id); a
 * receipt never exists for a message SNS did not take.
 */
export class NotifyService implements RoleHandler {
  readonly role = 'notify'
  readonly counters = { sent: 0, duplicates: 0, skipped: 0 }
  private readonly pruner: NodeJS.Timeout

  constructor(private readonly deps: NotifyDeps) {
    if (!deps.notifier) deps.log.warn({}, 'SNS_TOPIC_ARN is not set: customer notifications are off (events are drained)')
    this.pruner = setInterval(() => void this.prune(), 3_600_000)
    this.pruner.unref()
  }

  async handle({ event }: Delivery): Promise<void> {
    const { notifier, receipts } = this.deps
    if (event.type !== 'package.status_changed') return
    if (!UUID.test(event.id)) throw new PermanentError(`event id "${event.id}" is not a uuid`)
    if (!notifier) {
      this.counters.skipped++
      return
    }
    if (await receipts.seen(CONSUMER, event.id)) {
      this.counters.duplicates++
      return
    }
    await notifier.publish(event)
    await receipts.record(CONSUMER, event.id)
    this.counters.sent++
  }

  async close(): Promise<void> {
    clearInterval(this.pruner)
  }

  private async prune(): Promise<void> {
    await this.deps.receipts.prune(new Date(Date.now() - this.deps.retentionMs)).catch((err: Error) => this.deps.log.warn({ err: err.message }, 'receipt prune failed'))
  }
}
