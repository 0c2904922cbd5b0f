import {
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  noop,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel'
import { Gauge, Registry } from 'prom-client'
import type { Config } from '../config/config.js'

export type BreakerState = 'closed' | 'half-open' | 'open'

/** How many failures open a breaker and how long it stays open (BREAKER_FAILURES, BREAKER_HALF_OPEN_AFTER_MS). */
export interface BreakerSettings {
  /** Failures in a row that open the breaker. */
  failures: number
  /** How long it stays open before one trial call is let through. */
  halfOpenAfterMs: number
}

export const DEFAULT_BREAKER: BreakerSettings = { failures: 5, halfOpenAfterMs: 30_000 }

export const breakerSettingsOf = (config: Config): BreakerSettings => ({ failures: config.BREAKER_FAILURES, halfOpenAfterMs: config.BREAKER_HALF_OPEN_AFTER_MS })

export interface EdgeOptions extends Partial<BreakerSettings> {
  /** Calls in flight at once (the bulkhead)... */
  concurrency: number
  /** ...and calls waiting for a slot; one more is refused at once. */
  queue: number
  /** A deadline for calls that have none of their own; the call's signal fires at it. */
  timeoutMs?: number
  /** Whether an error says the service is down (counted by the breaker); default every error. */
  isOutage?: (err: unknown) => boolean
}

/** A call refused without reaching the service: its breaker is open, or its bulkhead is full. Try again later. */
export class EdgeUnavailable extends Error {
  /** An HTTP request that met it answers 503 `unavailable` with retry-after (platform/http/errors.ts). */
  readonly statusCode = 503

  constructor(
    readonly breaker: string,
    readonly reason: 'breaker_open' | 'bulkhead_full',
  ) {
    super(reason === 'breaker_open' ? `circuit breaker ${breaker} is open: the service failed repeatedly` : `too many calls to ${breaker} at once`)
    this.name = 'EdgeUnavailable'
  }
}

/**
 * The policy around calls to one outside service (cockatiel): a breaker, then a
 * bulkhead, then a timeout when one is asked for. No retry: every caller already
 * retries durably (the queue's delays, the carrier schedule, the client).
 */
export class EdgePolicy {
  private readonly breaker: CircuitBreakerPolicy
  private readonly policy: IPolicy

  constructor(
    readonly name: string,
    opts: EdgeOptions,
  ) {
    const isOutage = opts.isOutage ?? (() => true)
    // A full bulkhead is our own back-pressure, not the service failing.
    this.breaker = circuitBreaker(
      handleWhen((err) => !(err instanceof BulkheadRejectedError) && isOutage(err)),
      { halfOpenAfter: opts.halfOpenAfterMs ?? DEFAULT_BREAKER.halfOpenAfterMs, breaker: new ConsecutiveBreaker(opts.failures ?? DEFAULT_BREAKER.failures) },
    )
    // Cooperative: the call gets an AbortSignal that fires at the deadline and aborts the request itself.
    const deadline = opts.timeoutMs ? timeout(opts.timeoutMs, TimeoutStrategy.Cooperative) : noop
    this.policy = wrap(this.breaker, bulkhead(opts.concurrency, opts.queue), deadline)
  }

  /** Runs `fn` under the policy; rejects at once with EdgeUnavailable while the breaker is open or the bulkhead full. */
  async run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      // Without a parent signal cockatiel shares one never-aborting signal, and many calls in flight would warn of a listener leak.
      return (await this.policy.execute(({ signal: s }) => fn(s), signal ?? new AbortController().signal)) as T
    } catch (err) {
      if (isBrokenCircuitError(err)) throw new EdgeUnavailable(this.name, 'breaker_open')
      if (err instanceof BulkheadRejectedError) throw new EdgeUnavailable(this.name, 'bulkhead_full')
      throw err
    }
  }

  state(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed'
      case CircuitState.HalfOpen:
        return 'half-open'
      default:
        return 'open'
    }
  }
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 }

/**
 * A process's breakers, by key (`webhook:<endpointId>`, `sns`, `s3:<bucket>`,
 * `carrier:<provider>`), and their states as `delivertrack_breaker_state` in a
 * registry of their own that /metrics merges in. Per-endpoint policies are kept
 * in least-recently-used order and bounded: one forgotten is simply a new closed
 * one on its next call.
 */
export class Breakers {
  readonly registry = new Registry()
  private readonly fixed = new Map<string, EdgePolicy>()
  private readonly keyedPolicies = new Map<string, EdgePolicy>()
  private readonly watched = new Map<string, () => BreakerState>()

  constructor(
    readonly settings: BreakerSettings = DEFAULT_BREAKER,
    private readonly maxKeyed = 1_000,
  ) {
    const states = () => this.states()
    new Gauge({
      name: 'delivertrack_breaker_state',
      help: 'Circuit breaker of a call to an outside service: 0 closed, 1 half-open (one trial call), 2 open (calls refused)',
      labelNames: ['breaker'],
      registers: [this.registry],
      collect() {
        this.reset()
        for (const [breaker, state] of Object.entries(states())) this.set({ breaker }, STATE_VALUE[state])
      },
    })
  }

  /** The policy for one service (`sns`, `s3:<bucket>`), made with `opts` and the process's settings on first use; kept for the process's life. */
  edge(key: string, opts: EdgeOptions): EdgePolicy {
    let p = this.fixed.get(key)
    if (!p) this.fixed.set(key, (p = this.make(key, opts)))
    return p
  }

  /** Like edge(), for one of many keys (`webhook:<endpointId>`): only the most recently used maxKeyed are kept. */
  keyed(key: string, opts: EdgeOptions): EdgePolicy {
    let p = this.keyedPolicies.get(key)
    if (p) this.keyedPolicies.delete(key)
    else p = this.make(key, opts)
    this.keyedPolicies.set(key, p)
    if (this.keyedPolicies.size > this.maxKeyed) this.keyedPolicies.delete(this.keyedPolicies.keys().next().value!)
    return p
  }

  /** Drops the policy for `key` (its endpoint was disabled; a deleted one ages out). */
  forget(key: string): void {
    this.keyedPolicies.delete(key)
  }

  /** Shows a breaker built elsewhere (a carrier provider's) under `key`. */
  watch(key: string, state: () => BreakerState): void {
    this.watched.set(key, state)
  }

  states(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = {}
    for (const [key, state] of this.watched) out[key] = state()
    for (const [key, p] of [...this.fixed, ...this.keyedPolicies]) out[key] = p.state()
    return out
  }

  private make(key: string, opts: EdgeOptions): EdgePolicy {
    return new EdgePolicy(key, { ...opts, failures: opts.failures ?? this.settings.failures, halfOpenAfterMs: opts.halfOpenAfterMs ?? this.settings.halfOpenAfterMs })
  }
}
