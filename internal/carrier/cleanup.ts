import type { RoleLogger } from '../events/roles.js'
import type { CleanupResult } from './cleanup-postgres.js'

export interface CleanupLoopOptions {
  /** One run if due across all workers (runCleanupIfDue); null when not due or another worker has it. */
  run(now: Date): Promise<CleanupResult | null>
  intervalMs: number
  clock?: () => Date
  log: RoleLogger
}

/**
 * The carriers role's cleanup (TRACKING_CLEANUP_INTERVAL): tries a run at start and
 * then every interval; the database decides whether one is due, so several workers
 * run it once per interval between them.
 */
export class CleanupLoop {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined

  constructor(private readonly opts: CleanupLoopOptions) {}

  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs)
    this.timer.unref()
    void this.tick()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }

  /** One attempt now (tests call it too). */
  async tick(): Promise<CleanupResult | null> {
    if (this.running) return null
    const now = (this.opts.clock ?? (() => new Date()))()
    let result: CleanupResult | null = null
    this.running = this.opts.run(now).then(
      (r) => {
        result = r
        if (r) this.opts.log.info({ ...r }, 'carrier cleanup')
      },
      (err: unknown) => this.opts.log.error({ err }, 'carrier cleanup failed; trying again after the interval'),
    ).finally(() => (this.running = undefined))
    await this.running
    return result
  }
}
