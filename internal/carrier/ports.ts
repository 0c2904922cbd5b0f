import type { Package, PackageStatus } from '../package/domain.js'
import type { Written } from '../package/ports.js'
import type { CarrierSnapshot } from './domain.js'
import type { SnapshotPlan } from './plan.js'

export type BreakerState = 'closed' | 'open' | 'half-open'

/** What a verified push says about one tracking. */
export interface WebhookUpdate {
  trackingNumber: string
  /** The carrier slug as we use it (lower case, e.g. `ups`). */
  carrier: string
  snapshot: CarrierSnapshot
}

/** How one check may call the provider. */
export interface TrackOptions {
  /** The provider answered about this number before: read it first; otherwise register it first. */
  known?: boolean
  /**
   * Asked before a second call within the same check (the number was not where
   * `known` said); false stops the check with SecondCallRefused. The budget counts
   * calls, not checks, so this is where it takes the second one.
   */
  mayCallAgain?: () => Promise<boolean>
  signal?: AbortSignal
}

/**
 * A carrier tracking provider (AfterShip, EasyPost, the sandbox). Adapters make
 * no retries: the scheduler decides when to ask again, from the typed errors.
 */
export interface CarrierProvider {
  readonly name: string
  /**
   * The tracking as the provider sees it now; registers the number with the
   * provider first when it does not know it yet. Costs one call when `known` is
   * right, two when it is not. Rejects with RateLimited, ProviderUnavailable (5xx,
   * timeout, network, open breaker), NotFoundAtCarrier, BadRequest or
   * SecondCallRefused, never anything else.
   */
  track(carrier: string, trackingNumber: string, opts?: TrackOptions): Promise<CarrierSnapshot>
  /** Whether a push carries the provider's valid signature over `rawBody`; constant time, false when missing. */
  verifyWebhook(headers: Record<string, string | string[] | undefined>, rawBody: Buffer | string): boolean
  /** A verified push's content. Throws BadRequest when it is not a tracking update. */
  parseWebhook(rawBody: Buffer | string): WebhookUpdate
  /** The circuit breaker's state, for /metrics and /health/ready. */
  breakerState(): BreakerState
}

/** Base of the errors a provider call rejects with; `code` is stable for logs and metrics. */
export abstract class CarrierError extends Error {
  abstract readonly code: 'rate_limited' | 'provider_unavailable' | 'not_found_at_carrier' | 'bad_request' | 'budget_exhausted'
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

/** The check needed a second call and the day's budget had none left: nothing learned, nothing lost. */
export class SecondCallRefused extends CarrierError {
  override name = 'SecondCallRefused'
  readonly code = 'budget_exhausted'
}

/** A due tracking a worker holds until it finishes or its lease runs out. */
export interface Claim {
  packageId: string
  trackingNumber: string
  carrier: string
  status: PackageStatus
  estimatedDelivery?: Date
  /** How this check is logged and who asked for it. */
  type: 'scheduled' | 'manual'
  triggeredBy: string
  priority: number
  consecutiveFailures: number
  /** The hash of the last answer applied: the same hash again changes nothing. */
  lastHash?: string
  /** When the provider last pushed an update for it. */
  lastPushedAt?: Date
  /** Proves the claim is still this worker's when it finishes. */
  token: string
  /** The due time it had, given back if the claim is released unused. */
  due: Date
}

/** When a tracking is next asked about; `dueAt` null makes it inactive (final or unknown at the carrier). */
export interface Schedule {
  dueAt: Date | null
  priority: number
  /** The failure-free interval, for "overdue by more than twice its interval". */
  intervalS: number | null
}

/** One line of the update log. */
export interface UpdateLogEntry {
  type: 'scheduled' | 'manual' | 'webhook'
  triggeredBy: string
  provider: string
  success: boolean
  statusCode?: number
  durationMs: number
  error?: string
  statusChanged: boolean
  previousStatus?: PackageStatus
  newStatus?: PackageStatus
  eventsAdded: number
  startedAt: Date
}

export interface SyncOutcome {
  written: Written
  plan: SnapshotPlan
}

/**
 * Carrier trackings as jobs (PostgreSQL). Claims are exclusive: a claimed
 * tracking is not due again until its lease passes, so two workers never ask
 * about one tracking at once, and a crashed worker's claims come back.
 */
export interface TrackingStore {
  /**
   * Claims up to `limit` trackings due at `now` (priority, then due time), at most
   * `maxPriority` (manual refreshes only when the scheduled share of the budget is spent),
   * each leased until `now + leaseS`.
   */
  claim(opts: { limit: number; now: Date; leaseS: number; maxPriority: number }): Promise<Claim[]>
  /** Gives a claim back unused, due as before (no budget for it). */
  release(claim: Claim): Promise<void>
  /**
   * Takes one call from the day's budget if fewer than `limit` were used: one
   * atomic conditional statement, so racing workers never pass it. False when spent.
   */
  reserveCall(day: string, limit: number): Promise<boolean>
  /** Calls used on the day. */
  used(day: string): Promise<number>
  /**
   * Applies an answer in one transaction: `decide` sees the package and the
   * checkpoint ids already applied; the change, the new checkpoint ids, the
   * schedule (only while the claim is still this worker's) and the log line are
   * written together, or nothing is.
   */
  succeed(claim: Claim, decide: (pkg: Package, applied: ReadonlySet<string>) => SnapshotPlan, finish: (plan: SnapshotPlan) => { schedule: Schedule; hash: string; notFound: boolean; log: UpdateLogEntry; pushesMissed?: boolean }, now: Date): Promise<SyncOutcome>
  /** Records a failed check: failures in a row, attention, the retry and the log line. */
  fail(claim: Claim, failure: { schedule: Schedule; requiresAttention: boolean; statusCode?: number; error: string; log: UpdateLogEntry }, now: Date): Promise<void>
}
