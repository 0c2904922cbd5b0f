import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { singleFlight, withTimeout } from '../platform/deadline.js'
import type { CarrierSnapshot } from './domain.js'
import { utcDay } from './plan.js'
import { BadRequest, NotFoundAtCarrier, ProviderUnavailable, RateLimited, SecondCallRefused, type BreakerState, type CarrierProvider, type TrackOptions } from './ports.js'

/** How a provider call ended, as `delivertrack_carrier_provider_calls_total` labels it. */
export type CallOutcome = 'ok' | 'not_found' | 'rate_limited' | 'server_error' | 'timeout' | 'network' | 'breaker_open' | 'bad_request'

/** Trackings by where they stand as jobs (docs/operations.md). */
export const TRACKING_STATES = ['due', 'leased', 'scheduled', 'requires_attention', 'inactive'] as const
export type TrackingState = (typeof TRACKING_STATES)[number]

/** What the scrape reads from PostgreSQL; each read is bounded so /metrics answers while the database hangs. */
export interface CarrierFigures {
  /** Trackings by state at `now` (`requires_attention` overlaps the others). */
  trackingsByState(now: Date): Promise<Record<TrackingState, number>>
  /** Provider calls taken from the budget on the UTC day. */
  budgetUsed(day: string): Promise<number>
}

export interface CarrierMetricsOptions {
  figures: CarrierFigures
  /** TRACKING_DAILY_BUDGET and TRACKING_RATE_BUFFER (percent kept for manual refreshes). */
  dailyBudget: number
  reservePct: number
  clock?: () => Date
  log: { warn(obj: object, msg: string): void }
  /** How long a scrape waits for PostgreSQL (default 1.5 s, like /stats). */
  budgetMs?: number
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 }

/** The outcome label of a provider call's error (anything unexpected counts as a server error). */
export function outcomeOf(err: unknown): CallOutcome {
  // The provider answered the first call as expected; only our budget stopped the second.
  if (err instanceof SecondCallRefused) return 'ok'
  if (err instanceof NotFoundAtCarrier) return 'not_found'
  if (err instanceof RateLimited) return 'rate_limited'
  if (err instanceof BadRequest) return 'bad_request'
  if (err instanceof ProviderUnavailable) return err.reason
  return 'server_error'
}

/**
 * The carriers role's Prometheus figures, in a registry of their own that the
 * process's /metrics merges in. Calls and latency are counted as they happen;
 * trackings and the budget are read from PostgreSQL at scrape time (they are
 * shared by every worker); breaker states are read from the providers watched.
 */
export class CarrierMetrics {
  readonly registry = new Registry()
  private readonly providers: CarrierProvider[] = []
  private readonly calls: Counter<'provider' | 'outcome'>
  private readonly latency: Histogram<'provider'>

  constructor(opts: CarrierMetricsOptions) {
    const registers = [this.registry]
    const now = opts.clock ?? (() => new Date())
    const budgetMs = opts.budgetMs ?? 1_500
    this.calls = new Counter({ name: 'delivertrack_carrier_provider_calls_total', help: 'Provider calls (one per check) by provider and outcome', labelNames: ['provider', 'outcome'], registers })
    this.latency = new Histogram({
      name: 'delivertrack_carrier_provider_call_duration_seconds',
      help: 'How long a provider call took, whatever its outcome (calls refused by an open breaker left out)',
      labelNames: ['provider'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    })
    const read = <T>(what: string, fn: () => Promise<T>) => {
      const once = singleFlight(fn)
      return async (): Promise<T | undefined> => {
        try {
          return await withTimeout(once(), budgetMs, what)
        } catch (err) {
          opts.log.warn({ err: (err as Error).message, figure: what }, 'carrier metrics: figure unknown')
          return undefined
        }
      }
    }
    const states = read('carrier trackings', () => opts.figures.trackingsByState(now()))
    const used = read('carrier budget', () => opts.figures.budgetUsed(utcDay(now())))
    const unknown = new Gauge({ name: 'delivertrack_carrier_figures_unknown', help: 'A carrier figure (trackings, budget) not read from PostgreSQL in time: its samples are absent', labelNames: ['name'], registers })
    new Gauge({
      name: 'delivertrack_carrier_trackings',
      help: 'Carrier trackings by state: due (waiting for a worker), leased (being checked), scheduled, requires_attention, inactive',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await states()
        this.reset()
        unknown.set({ name: 'trackings' }, counts ? 0 : 1)
        for (const state of TRACKING_STATES) if (counts) this.set({ state }, counts[state])
      },
    })
    const reserve = Math.floor((opts.dailyBudget * opts.reservePct) / 100)
    new Gauge({ name: 'delivertrack_carrier_budget_calls', help: 'Provider calls allowed per UTC day (TRACKING_DAILY_BUDGET)', registers }).set(opts.dailyBudget)
    new Gauge({ name: 'delivertrack_carrier_budget_reserve_calls', help: 'Part of the daily budget kept for manual refreshes (TRACKING_RATE_BUFFER)', registers }).set(reserve)
    // One read of the day's row feeds both, so used + remaining is always the budget.
    let day: Promise<number | undefined> | undefined
    const today = () => (day ??= used().finally(() => setImmediate(() => (day = undefined))))
    new Gauge({
      name: 'delivertrack_carrier_budget_used_calls',
      help: 'Provider calls taken from today\'s budget (UTC day), all workers',
      registers,
      async collect() {
        const n = await today()
        this.reset()
        unknown.set({ name: 'budget' }, n === undefined ? 1 : 0)
        if (n !== undefined) this.set(n)
      },
    })
    new Gauge({
      name: 'delivertrack_carrier_budget_remaining_calls',
      help: 'Provider calls left today (UTC day), the manual reserve included',
      registers,
      async collect() {
        const n = await today()
        this.reset()
        if (n !== undefined) this.set(Math.max(0, opts.dailyBudget - n))
      },
    })
    const providers = this.providers
    new Gauge({
      name: 'delivertrack_carrier_breaker_state',
      help: 'Circuit breaker of a provider: 0 closed, 1 half-open, 2 open (calls refused)',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset()
        for (const p of providers) this.set({ provider: p.name }, BREAKER_VALUE[p.breakerState()])
      },
    })
  }

  /** `provider` with every track() call counted and timed; its breaker shows in the metrics and in breakerStates(). */
  watch(provider: CarrierProvider): CarrierProvider {
    this.providers.push(provider)
    const { calls, latency } = this
    return {
      get name() {
        return provider.name
      },
      async track(carrier: string, trackingNumber: string, opts?: TrackOptions): Promise<CarrierSnapshot> {
        const started = performance.now()
        let outcome: CallOutcome = 'ok'
        try {
          return await provider.track(carrier, trackingNumber, opts)
        } catch (err) {
          outcome = outcomeOf(err)
          throw err
        } finally {
          calls.inc({ provider: provider.name, outcome })
          // A call the open breaker refused never reached the provider: it would drag the latency down.
          if (outcome !== 'breaker_open') latency.observe({ provider: provider.name }, (performance.now() - started) / 1000)
        }
      },
      verifyWebhook: (headers, rawBody) => provider.verifyWebhook(headers, rawBody),
      parseWebhook: (rawBody) => provider.parseWebhook(rawBody),
      breakerState: () => provider.breakerState(),
    }
  }

  /** The breaker of each provider watched, for /health/ready. */
  breakerStates(): Record<string, BreakerState> {
    return Object.fromEntries(this.providers.map((p) => [p.name, p.breakerState()]))
  }
}
