import type { RoleLogger } from '../events/roles.js'
import type { CarrierSync } from './sync-service.js'

export interface CarrierRoleOptions {
  sync: CarrierSync
  /** How long an idle pass waits before looking again. */
  pollIntervalMs: number
  log: RoleLogger
}

/**
 * The `carriers` worker role: a poller, not a queue consumer. It runs passes back
 * to back while they call the provider, and sleeps pollIntervalMs after a pass
 * that called nothing (nothing due, or the budget spent: then only manual
 * refreshes are claimed until the next UTC day). stop() lets the calls in flight
 * finish and be saved, and gives the pass's other claims back at once.
 */
export class CarrierRole {
  readonly role = 'carriers'
  private running = false
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  /** Passes run since start, for tests and logs. */
  passes = 0

  constructor(private readonly opts: CarrierRoleOptions) {}

  start(): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Stops after the pass in flight (SIGTERM): no claim is left half done. */
  async stop(): Promise<void> {
    this.running = false
    this.opts.sync.stop()
    this.wake?.()
    await this.loop
  }

  private async run(): Promise<void> {
    const { sync, log } = this.opts
    while (this.running) {
      let called = 0
      try {
        const pass = await sync.runOnce()
        this.passes += 1
        called = pass.called
        if (pass.called > 0) log.info({ ...pass }, 'carrier pass')
      } catch (err) {
        log.error({ err }, 'carrier pass failed; trying again after the poll interval')
      }
      if (called === 0 && this.running) await this.sleep(this.opts.pollIntervalMs)
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
  }
}
