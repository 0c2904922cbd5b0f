import { CircuitState, ConsecutiveBreaker, TimeoutStrategy, circuitBreaker, handleType, isBrokenCircuitError, timeout, wrap } from 'cockatiel'
import { ProviderUnavailable, type BreakerState } from './ports.js'

export interface PolicyOptions {
  /** Each call's deadline (TRACKING_API_TIMEOUT). */
  timeoutMs: number
  /** Failures in a row that open the breaker. */
  breakerThreshold?: number
  /** How long the breaker stays open before one trial call. */
  halfOpenAfterMs?: number
}

/**
 * One provider's resilience policy (cockatiel): a breaker around a timeout, and
 * no retry (the scheduler owns retries). Only ProviderUnavailable counts against
 * the breaker: a 429 or an unknown number says the provider is up.
 */
export class ProviderPolicy {
  private readonly breaker
  private readonly policy

  constructor(opts: PolicyOptions) {
    this.breaker = circuitBreaker(handleType(ProviderUnavailable), {
      halfOpenAfter: opts.halfOpenAfterMs ?? 30_000,
      breaker: new ConsecutiveBreaker(opts.breakerThreshold ?? 5),
    })
    // Cooperative: the call gets an AbortSignal that fires at the deadline, which aborts the fetch itself.
    this.policy = wrap(this.breaker, timeout(opts.timeoutMs, TimeoutStrategy.Cooperative))
  }

  /** Runs `fn` under the policy; an open breaker rejects at once with ProviderUnavailable (`breaker_open`). */
  async run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      // cockatiel hangs each call's deadline on the parent signal; without one it uses a shared
      // never-aborting signal, and more than 10 calls in flight would warn of a listener leak.
      return await this.policy.execute(({ signal: s }) => fn(s), signal ?? new AbortController().signal)
    } catch (err) {
      if (isBrokenCircuitError(err)) throw new ProviderUnavailable('circuit breaker open: the provider failed repeatedly', undefined, 'breaker_open')
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
