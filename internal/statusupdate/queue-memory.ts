import type { QueuedUpdate } from './domain.js'
import type { StatusUpdateQueue, UpdateHandler } from './ports.js'

/**
 * The embedded mode's queue: a batch is held in memory and applied in this
 * process, in order, after the relay's transaction (PGlite has one connection,
 * which the relay holds while publishing). What a crash loses here is still
 * `queued` in PostgreSQL: the gateway marks it unpublished again at start.
 */
export class MemoryStatusQueue implements StatusUpdateQueue {
  private handler: UpdateHandler | undefined
  private tail: Promise<void> = Promise.resolve()

  get connected(): boolean {
    return this.handler !== undefined
  }

  constructor(private readonly log?: { warn(o: object, m: string): void }) {}

  /** The in-process worker; until it is set, updates wait in PostgreSQL. */
  attach(handler: UpdateHandler): void {
    this.handler = handler
  }

  async publish(batch: readonly QueuedUpdate[]): Promise<void> {
    const handler = this.handler
    if (!handler) throw new Error('no status-updates worker in this process')
    const log = this.log
    this.tail = this.tail.then(async () => {
      for (const message of batch) {
        // Retried a few times in place (keeps the order); after that it waits for the next start.
        for (let attempt = 1; attempt <= 3; attempt++) {
          try {
            await handler(message)
            break
          } catch (err) {
            log?.warn({ externalId: message.update.externalId, attempt, err: (err as Error).message }, 'status update not applied')
            await new Promise((r) => setTimeout(r, 200 * attempt).unref())
          }
        }
      }
    })
  }

  /** Resolves once everything published so far was handled (tests, shutdown). */
  idle(): Promise<void> {
    return this.tail
  }
}
