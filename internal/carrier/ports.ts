import type { CarrierSnapshot } from './domain.js'

export type BreakerState = 'closed' | 'open' | 'half-open'

/** What a verified push says about one tracking. */
export interface WebhookUpdate {
  trackingNumber: string
  /** The carrier slug as we use it (lower case, e.g. `ups`). */
  carrier: string
  snapshot: CarrierSnapshot
}

/**
 * A carrier tracking provider (AfterShip, EasyPost, the sandbox). Adapters make
 * no retries: the scheduler decides when to ask again, from the typed errors.
 */
export interface CarrierProvider {
  readonly name: string
  /**
   * The tracking as the provider sees it now; registers the number with the
   * provider first when it does not know it yet. Costs one or two provider calls.
   * Rejects with RateLimited, ProviderUnavailable (5xx, timeout, network, open
   * breaker), NotFoundAtCarrier or BadRequest, never anything else.
   */
  track(carrier: string, trackingNumber: string, signal?: AbortSignal): Promise<CarrierSnapshot>
  /** Whether a push carries the provider's valid signature over `rawBody`; constant time, false when missing. */
  verifyWebhook(headers: Record<string, string | string[] | undefined>, rawBody: Buffer | string): boolean
  /** A verified push's content. Throws BadRequest when it is not a tracking update. */
  parseWebhook(rawBody: Buffer | string): WebhookUpdate
  /** The circuit breaker's state, for /metrics and /health/ready. */
  breakerState(): BreakerState
}

/** Base of the errors a provider call rejects with; `code` is stable for logs and metrics. */
export abstract class CarrierError extends Error {
  abstract readonly code: 'rate_limited' | 'provider_unavailable' | 'not_found_at_carrier' | 'bad_request'
  /** The provider's HTTP status, when it answered. */
  readonly statusCode?: number
  constructor(message: string, statusCode?: number) {
    super(message)
    if (statusCode !== undefined) this.statusCode = statusCode
  }
}

/** 429: ask again after `retryAfterS` seconds. */
export class RateLimited extends CarrierError {
  override name = 'RateLimited'
  readonly code = 'rate_limited'
  constructor(readonly retryAfterS: number, message = `provider rate limit; retry after ${retryAfterS} s`) {
    super(message, 429)
  }
}

/** 5xx, a timeout, a network error or an open circuit breaker: retry later with back-off. */
export class ProviderUnavailable extends CarrierError {
  override name = 'ProviderUnavailable'
  readonly code = 'provider_unavailable'
  constructor(
    message: string,
    statusCode?: number,
    readonly reason: 'server_error' | 'timeout' | 'network' | 'breaker_open' = 'server_error',
  ) {
    super(message, statusCode)
  }
}

/** The provider or carrier refuses the number as unknown: final, do not retry. */
export class NotFoundAtCarrier extends CarrierError {
  override name = 'NotFoundAtCarrier'
  readonly code = 'not_found_at_carrier'
}

/** The provider refused the request itself (bad slug, malformed number, bad key): retrying will not help. */
export class BadRequest extends CarrierError {
  override name = 'BadRequest'
  readonly code = 'bad_request'
}
