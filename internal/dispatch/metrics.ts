import { Counter, Histogram, Registry } from 'prom-client'
import type { CloseReason, PassReason } from './domain.js'
import type { DispatchObserver } from './service.js'

/** Dispatch's Prometheus figures, in a registry of their own that its /metrics merges with the process's. */
export class DispatchMetrics implements DispatchObserver {
  readonly registry = new Registry()
  private readonly offers: Counter<'cause'>
  private readonly latency: Histogram
  private readonly waits: Counter
  private readonly closes: Counter<'reason'>
  private readonly passes: Counter<'reason'>

  constructor() {
    const registers = [this.registry]
    this.offers = new Counter({ name: 'delivertrack_dispatch_offers_total', help: 'Offers dispatch committed, by cause: new package, the previous driver declined or timed out, a retry of a waiting package', labelNames: ['cause'], registers })
    this.latency = new Histogram({
      name: 'delivertrack_dispatch_offer_delay_seconds',
      help: 'From a new package\'s package.created to the commit of its first offer',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    this.waits = new Counter({ name: 'delivertrack_dispatch_waiting_total', help: 'Times a package found no driver on shift to offer it to (the sweep tries again)', registers })
    this.closes = new Counter({ name: 'delivertrack_dispatch_released_total', help: 'Packages dispatch stopped offering, by reason (accepted, taken by staff, final, deleted, not own fleet)', labelNames: ['reason'], registers })
    this.passes = new Counter({ name: 'delivertrack_dispatch_passed_over_total', help: 'Drivers passed over for a package, by reason (declined, timeout)', labelNames: ['reason'], registers })
  }

  offered(cause: 'new' | PassReason | 'retry', sinceCreatedS?: number): void {
    this.offers.inc({ cause })
    if (sinceCreatedS !== undefined) this.latency.observe(Math.max(0, sinceCreatedS))
  }

  waiting(): void {
    this.waits.inc()
  }

  closed(reason: CloseReason): void {
    this.closes.inc({ reason })
  }

  passedOver(reason: PassReason): void {
    this.passes.inc({ reason })
  }
}
