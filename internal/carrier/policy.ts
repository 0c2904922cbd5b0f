import { EdgePolicy, EdgeUnavailable } from '../platform/resilience.js'
import { ProviderUnavailable, type BreakerState } from './ports.js'

export interface PolicyOptions {
  /** Each call's deadline (TRACKING_API_TIMEOUT). */
  timeoutMs: number
  /** Failures in a row that open the breaker (BREAKER_FAILURES). */
  breakerThreshold?: number
  /** How long the breaker stays open before one trial call (BREAKER_HALF_OPEN_AFTER_MS). */
  halfOpenAfterMs?: number
  /** Calls in flight at once (TRACKING_MAX_CONCURRENT); the rest wait their turn. */
  maxConcurrent?: number
}

/**
 * One provider's policy: the shared edge policy (platform/resilience.ts) with the
 * call's deadline, and no retry (the scheduler owns retries). Only
 * ProviderUnavailable counts against the breaker: a 429 or an unknown number says
 * the provider is up.
 */
export class ProviderPolicy {
  private readonly edge: EdgePolicy

  constructor(name: string, opts: PolicyOptions) {
    const concurrency = opts.maxConcurrent ?? 10
    this.edge = new EdgePolicy(`carrier:${name}`, {
      timeoutMs: opts.timeoutMs,
      failures: opts.breakerThreshold,
      halfOpenAfterMs: opts.halfOpenAfterMs,
      concurrency,
      // Manual refreshes from the gateways join the sync's lanes: they wait rather than fail.
      queue: 1_000,
      isOutage: (err) => err instanceof ProviderUnavailable,
    })
  }

  /** Runs `fn` under the policy; an open breaker rejects at once with ProviderUnavailable (`breaker_open`). */
  async run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await this.edge.run(fn, signal)
    } catch (err) {
      if (err instanceof EdgeUnavailable) {
        throw new ProviderUnavailable(err.reason === 'breaker_open' ? 'circuit breaker open: the provider failed repeatedly' : err.message, undefined, 'breaker_open')
      }
      throw err
    }
  }

  state(): BreakerState {
    return this.edge.state()
  }
}
