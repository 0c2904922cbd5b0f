import type { Written } from '../package/ports.js'
import type { RoleLogger } from '../events/roles.js'
import type { CarrierSnapshot } from './domain.js'
import { intervalMinutes, nextCheckIn, pushFed, type FrequencySettings, type HolidayCalendar } from './frequency.js'
import { nextUtcDay, planSnapshot, retryDelayS, utcDay, type SnapshotPlan } from './plan.js'
import { BadRequest, CarrierError, NotFoundAtCarrier, RateLimited, SecondCallRefused, type CarrierProvider, type Claim, type Schedule, type TrackingStore, type UpdateLogEntry } from './ports.js'

/** Claim priorities (lower runs first), as the contract numbers them. */
export const PRIORITY = { manual: 50, retry: 75, scheduled: 100 } as const

export interface SyncSettings {
  frequency: FrequencySettings
  holidays?: HolidayCalendar
  /** Provider calls per UTC day, all workers together. */
  dailyBudget: number
  /** Percent of the budget only manual refreshes may use. */
  reservePct: number
  maxConcurrent: number
  batchSize: number
  leaseS: number
  /** Failures in a row that raise requiresAttention. */
  maxFailures: number
}

export interface CarrierSyncDeps {
  store: TrackingStore
  provider: CarrierProvider
  settings: SyncSettings
  clock?: () => Date
  random?: () => number
  /** After every check: cached reads of the number are stale (lastCheckedAt, perhaps its events). */
  touched?(trackingNumber: string): Promise<void>
  /** Events this worker committed, for an event path in the same process (embedded mode). */
  committed?(written: Written): void
  log: RoleLogger
}

/** What one pass did, for tests and logs. */
export interface PassResult {
  claimed: number
  called: number
  /** Claims given back unused: the day's budget was spent, or the worker is stopping. */
  deferred: number
}

/**
 * One worker's side of carrier sync: claims due trackings, takes a call from the
 * day's budget for each, asks the provider (at most maxConcurrent at once) and
 * applies the answer, or schedules the retry.
 */
export class CarrierSync {
  private readonly now: () => Date
  private readonly random: () => number
  private stopping = false

  constructor(private readonly deps: CarrierSyncDeps) {
    this.now = deps.clock ?? (() => new Date())
    this.random = deps.random ?? Math.random
  }

  /** The budget scheduled checks may use; the rest is the manual reserve. */
  get scheduledLimit(): number {
    const s = this.deps.settings
    return Math.floor((s.dailyBudget * (100 - s.reservePct)) / 100)
  }

  /** Stops starting checks (SIGTERM): the pass in flight finishes the calls it began and gives back the rest, due as before. */
  stop(): void {
    this.stopping = true
  }

  /** One claim-and-call pass over at most batchSize due trackings. */
  async runOnce(): Promise<PassResult> {
    const s = this.deps.settings
    const now = this.now()
    if (this.stopping) return { claimed: 0, called: 0, deferred: 0 }
    // With the scheduled share spent, only manual refreshes are claimed until the next UTC day.
    const scheduledOpen = (await this.deps.store.used(utcDay(now))) < this.scheduledLimit
    const claims = await this.deps.store.claim({ limit: s.batchSize, now, leaseS: s.leaseS, maxPriority: scheduledOpen ? PRIORITY.scheduled : PRIORITY.manual })
    const result: PassResult = { claimed: claims.length, called: 0, deferred: 0 }
    let next = 0
    const lane = async () => {
      while (next < claims.length) {
        const claim = claims[next++]!
        if (this.stopping) {
          await this.deps.store.release(claim)
          result.deferred += 1
        } else if (await this.check(claim)) result.called += 1
        else result.deferred += 1
      }
    }
    await Promise.all(Array.from({ length: Math.min(s.maxConcurrent, claims.length) }, lane))
    return result
  }

  /** The wait until scheduled checks may run again when the budget is spent, else null. */
  async budgetWaitMs(): Promise<number | null> {
    const now = this.now()
    if ((await this.deps.store.used(utcDay(now))) < this.scheduledLimit) return null
    return nextUtcDay(now).getTime() - now.getTime()
  }

  /** Asks about one claimed tracking; false when the budget had no call left for it (released). */
  private async check(claim: Claim): Promise<boolean> {
    const startedAt = this.now()
    const limit = claim.type === 'manual' ? this.deps.settings.dailyBudget : this.scheduledLimit
    const reserve = () => this.deps.store.reserveCall(utcDay(startedAt), limit)
    if (!(await reserve())) {
      await this.deps.store.release(claim)
      return false
    }
    const t0 = performance.now()
    let snap: CarrierSnapshot | undefined
    let failure: unknown
    try {
      snap = await this.deps.provider.track(claim.carrier, claim.trackingNumber, { known: claim.lastHash !== undefined, mayCallAgain: reserve })
    } catch (err) {
      failure = err
    }
    if (failure instanceof SecondCallRefused) {
      // The call made is counted; the tracking waits, due as before, for budget to ask again.
      await this.deps.store.release(claim)
      return true
    }
    const durationMs = performance.now() - t0
    const log = { type: claim.type, triggeredBy: claim.triggeredBy, provider: this.deps.provider.name, durationMs, startedAt }
    try {
      if (failure instanceof NotFoundAtCarrier) snap = { status: 'expired', checkpoints: [], notFound: true, hash: 'not_found' }
      if (snap) await this.applied(claim, snap, log)
      else await this.failed(claim, failure, log)
    } catch (err) {
      // The lease brings the tracking back; nothing was half written (one transaction).
      this.deps.log.error({ err, trackingNumber: claim.trackingNumber }, 'carrier check could not be saved')
    }
    await this.deps.touched?.(claim.trackingNumber).catch((err: unknown) => this.deps.log.warn({ err, trackingNumber: claim.trackingNumber }, 'cached reads not invalidated; they expire with the cache TTL'))
    return true
  }

  private async applied(claim: Claim, snap: CarrierSnapshot, log: Omit<UpdateLogEntry, 'success' | 'statusChanged' | 'eventsAdded'>): Promise<void> {
    const now = this.now()
    const unchanged = claim.lastHash === snap.hash
    const decide = (pkg: Parameters<typeof planSnapshot>[0], applied: ReadonlySet<string>): SnapshotPlan =>
      unchanged ? { change: { next: pkg, events: [] }, newCheckpoints: [], previousStatus: pkg.status, newStatus: pkg.status } : planSnapshot(pkg, snap, applied, now)
    const { written } = await this.deps.store.succeed(claim, decide, (plan) => {
      // News a push should have brought: pushes are not arriving for it, so the status schedule again.
      const pushesMissed = claim.lastPushedAt !== undefined && plan.change.events.length > 0
      return {
        schedule: snap.notFound ? INACTIVE : this.schedule(plan.newStatus, plan.change.next.estimatedDelivery, 0, now, pushesMissed ? undefined : claim.lastPushedAt),
        hash: snap.hash,
        notFound: snap.notFound === true,
        pushesMissed,
        log: {
          ...log,
          success: true,
          statusCode: 200,
          statusChanged: plan.newStatus !== plan.previousStatus,
          previousStatus: plan.previousStatus,
          newStatus: plan.newStatus,
          eventsAdded: plan.change.events.length,
        },
      }
    }, now)
    if (written.events.length > 0) this.deps.committed?.(written)
  }

  private async failed(claim: Claim, err: unknown, log: Omit<UpdateLogEntry, 'success' | 'statusChanged' | 'eventsAdded'>): Promise<void> {
    const now = this.now()
    const failures = claim.consecutiveFailures + 1
    const statusCode = err instanceof CarrierError ? err.statusCode : undefined
    const message = err instanceof Error ? err.message : String(err)
    let schedule: Schedule
    if (err instanceof RateLimited) {
      schedule = { dueAt: new Date(now.getTime() + err.retryAfterS * 1000), priority: PRIORITY.retry, intervalS: null }
    } else if (err instanceof BadRequest) {
      // Asking again soon will not help (a bad key, slug or number): the back-off schedule, and a person looks.
      schedule = this.schedule(claim.status, claim.estimatedDelivery, failures, now, claim.lastPushedAt)
    } else {
      // 5xx, timeout, network, open breaker: 60, 300, 900 s, then the schedule's own back-off if longer.
      const backOff = this.schedule(claim.status, claim.estimatedDelivery, failures, now, claim.lastPushedAt)
      const retryMs = retryDelayS(failures) * 1000
      const dueAt = failures > 3 && backOff.dueAt && backOff.dueAt.getTime() - now.getTime() > retryMs ? backOff.dueAt : new Date(now.getTime() + retryMs)
      schedule = { dueAt, priority: PRIORITY.retry, intervalS: backOff.intervalS }
    }
    const requiresAttention = failures >= this.deps.settings.maxFailures || err instanceof BadRequest
    await this.deps.store.fail(claim, {
      schedule,
      requiresAttention,
      statusCode,
      error: message,
      log: { ...log, success: false, statusCode, error: message, statusChanged: false, eventsAdded: 0 },
    }, now)
  }

  /** The next check from the frequency policy, fed by pushes when one came lately. */
  private schedule(status: Claim['status'], estimatedDelivery: Date | undefined, failures: number, now: Date, lastPushedAt: Date | undefined): Schedule {
    const s = this.deps.settings
    return scheduleCheck({ status, estimatedDelivery, failures, now, fed: pushFed(lastPushedAt, now, s.frequency), settings: s, random: this.random })
  }
}

/** No further check: final, or unknown at the carrier. */
export const INACTIVE: Schedule = Object.freeze({ dueAt: null, priority: PRIORITY.scheduled, intervalS: null })

/**
 * A scheduled check from the frequency policy (INACTIVE for final statuses) with its
 * failure-free interval; shared by checks and pushes so both schedule alike.
 */
export function scheduleCheck(i: {
  status: Claim['status']
  estimatedDelivery: Date | undefined
  failures: number
  now: Date
  fed: boolean
  settings: Pick<SyncSettings, 'frequency' | 'holidays'>
  random: () => number
}): Schedule {
  const { frequency, holidays } = i.settings
  const minutes = nextCheckIn({ status: i.status, estimatedDelivery: i.estimatedDelivery?.toISOString(), consecutiveFailures: i.failures, now: i.now, settings: frequency, holidays, pushFed: i.fed, random: i.random })
  if (minutes === null) return INACTIVE
  const interval = intervalMinutes(i.status, frequency, i.fed)
  return { dueAt: new Date(i.now.getTime() + minutes * 60_000), priority: PRIORITY.scheduled, intervalS: interval === null ? null : Math.round(interval * 60) }
}
