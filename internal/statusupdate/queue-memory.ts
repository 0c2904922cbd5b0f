import type { QueuedUpdate } from './domain.js'
import type { StatusUpdateQueue, UpdateHandler } from './ports.js'

/**
 * The embedded mode's queue: publishing applies the batch in this process, in
 * order, and resolves once every update is settled, so the relay stamps a row
 * published only after its outcome is recorded (a crash before that applies it
 * again on the next start, once).
 */
export class MemoryStatusQueue implements StatusUpdateQueue {
  private handler: UpdateHandler | undefined

  get connected(): boolean {
    return this.handler !== undefined
  }

  /** The in-process worker; until it is set, updates wait in PostgreSQL. */
  attach(handler: UpdateHandler): void {
    this.handler = handler
  }

  async publish(batch: readonly QueuedUpdate[]): Promise<void> {
    const handler = this.handler
    if (!handler) throw new Error('no status-updates worker in this process')
    for (const message of batch) await handler(message)
  }
}
