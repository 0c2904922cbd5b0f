import type { LoggedEvent, Outbox } from './log.js'

/** Where a relay publishes: the bus, or another queue with the same guarantees (status updates). */
export interface RelaySink<T> {
  readonly connected: boolean
  publish(batch: readonly T[]): Promise<void>
}

export interface RelayOptions<T = LoggedEvent> {
  /** The event log's outbox, or another table drained the same way (Outbox's contract, other messages). */
  outbox: Pick<Outbox, 'listen'> & { drain(limit: number, publish: (batch: T[]) => Promise<void>): Promise<number> }
  bus: RelaySink<T>
  log: { warn(o: object, m: string): void }
  batchSize?: number
  /** Periodic sweep, in case a wake-up was missed. */
  sweepMs?: number
  /**
   * How long a kick waits before draining, so the commits of a busy moment go out
   * as one batch. The committing gateway's own clients do not wait for it: the
   * event path hands them the events at commit.
   */
  coalesceMs?: number
}

/**
 * Publishes the outbox to the bus. Woken in-process by its gateway's commits
 * (kick), by the outbox's listener for other writers, and by a periodic sweep.
 * Nothing is published while the bus is down; the outbox keeps it.
 */
export class OutboxRelay<T = LoggedEvent> {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private scheduled: NodeJS.Timeout | undefined
  private unlisten: (() => Promise<void>) | undefined
  private again = false
  private stopped = false
  published = 0

  constructor(private readonly opts: RelayOptions<T>) {}

  async start(): Promise<void> {
    this.stopped = false
    this.timer = setInterval(() => this.kick(), this.opts.sweepMs ?? 1_000)
    this.timer.unref()
    this.unlisten = await this.opts.outbox.listen?.(() => this.kick())
    this.kick()
  }

  /** Runs a drain shortly (coalesceMs), or right after the one in progress. */
  kick(): void {
    if (this.stopped || !this.timer) return
    if (this.running) {
      this.again = true
      return
    }
    if (this.scheduled) return
    const delay = this.opts.coalesceMs ?? 5
    if (delay <= 0) return this.run()
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined
      this.run()
    }, delay)
  }

  private run(): void {
    if (this.stopped || this.running) return
    this.running = this.drain().finally(() => {
      this.running = undefined
      if (this.again) {
        this.again = false
        this.kick()
      }
    })
  }

  /** Waits for the drain in progress or scheduled (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.scheduled) {
      if (this.running) await this.running
      else await new Promise((r) => setTimeout(r, this.opts.coalesceMs ?? 5))
    }
  }

  private async drain(): Promise<void> {
    if (!this.opts.bus.connected) return
    const limit = this.opts.batchSize ?? 500
    try {
      // A batch smaller than the limit means the outbox was drained as of that query;
      // later commits kick again, so no extra empty round trip is needed to find out.
      while (!this.stopped) {
        const n = await this.opts.outbox.drain(limit, (batch) => this.opts.bus.publish(batch))
        this.published += n
        if (n < limit) break
      }
    } catch (err) {
      this.opts.log.warn({ err }, 'outbox relay could not publish; will retry')
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    if (this.scheduled) clearTimeout(this.scheduled)
    this.scheduled = undefined
    await this.idle()
    await this.unlisten?.()
    this.unlisten = undefined
  }
}
