import { AppError, conflict, invalid, notFound } from '../platform/errors.js'
import { isTerminal, normalizeTrackingNumber } from '../package/domain.js'
import type { BulkFilter, CarrierAdminStore, JobState, JobType, JobsView, LogEntryRead } from './admin-ports.js'
import { utcDay } from './plan.js'

/** Most trackings one bulk request queues (and most numbers it may name). */
export const BULK_LIMIT = 500

export interface CarrierAdminSettings {
  dailyBudget: number
  /** Percent of the budget kept for manual refreshes. */
  reservePct: number
  cleanupIntervalS: number
}

export interface CarrierAdminDeps {
  store: CarrierAdminStore
  settings: CarrierAdminSettings
  clock?: () => Date
}

export interface Usage {
  today: { calls: number; budget: number; reserve: number; remaining: number; successRate: number | null; p95Ms: number | null }
  byDay: Array<{ day: string; calls: number; failures: number; statusChanges: number }>
  byCarrier: Record<string, { calls: number; failures: number }>
}

const budgetExhausted = () => new AppError('rate_limited', 'budget_exhausted', "today's provider budget is spent, reserve included; checks resume at 00:00 UTC")

/** The admin side of carrier sync: manual refreshes, the queue, the API usage and the update log. */
export class CarrierAdmin {
  private readonly now: () => Date

  constructor(private readonly deps: CarrierAdminDeps) {
    this.now = deps.clock ?? (() => new Date())
  }

  /** Queues one manual check (priority 50; it may use the reserve). */
  async refresh(rawTn: string, by: string): Promise<{ jobId: string; scheduledFor: Date }> {
    const tn = normalizeTrackingNumber(rawTn, '/tn')
    const target = await this.deps.store.target(tn)
    if (!target) throw notFound('tracking')
    if (!target.external) throw conflict(`${tn} is one of our own packages, not a carrier tracking: nothing to ask a carrier`, 'not_external')
    if (isTerminal(target.status) || !target.active || target.notFound) {
      throw conflict(target.notFound ? `${tn} is not known at the carrier: it is not asked again` : `${tn} is final (${target.status}): it is not asked again`, 'tracking_final')
    }
    await this.checkBudget()
    const now = this.now()
    return { jobId: target.packageId, scheduledFor: await this.deps.store.requestManual(target.packageId, by, now) }
  }

  async bulkRefresh(filter: BulkFilter, by: string): Promise<{ queued: number; skipped: number }> {
    const tns = filter.trackingNumbers && [...new Set(filter.trackingNumbers.map((tn, i) => normalizeTrackingNumber(tn, `/trackingNumbers/${i}`)))]
    if (!tns && filter.status === undefined && filter.carrier === undefined && filter.staleForMinutes === undefined) {
      throw invalid('', 'needs trackingNumbers or a filter (status, carrier, staleForMinutes)')
    }
    if (filter.status && isTerminal(filter.status)) throw invalid('/status', 'is final: final trackings are not asked again')
    await this.checkBudget()
    const carrier = filter.carrier?.trim().toLowerCase()
    return this.deps.store.requestManualBulk({ ...filter, trackingNumbers: tns, carrier }, by, this.now(), BULK_LIMIT)
  }

  jobs(opts: { state?: JobState; type?: JobType; limit?: number }): Promise<JobsView> {
    return this.deps.store.jobs({ ...opts, now: this.now(), limit: opts.limit ?? 100, cleanupIntervalS: this.deps.settings.cleanupIntervalS })
  }

  async usage(days: number): Promise<Usage> {
    const now = this.now()
    const s = this.deps.settings
    const [rows, calls] = await Promise.all([this.deps.store.usage({ days, now }), this.deps.store.used(utcDay(now))])
    const reserve = s.dailyBudget - Math.floor((s.dailyBudget * (100 - s.reservePct)) / 100)
    return {
      today: {
        calls,
        budget: s.dailyBudget,
        reserve,
        remaining: Math.max(0, s.dailyBudget - calls),
        successRate: rows.today.logged === 0 ? null : rows.today.succeeded / rows.today.logged,
        p95Ms: rows.today.p95Ms,
      },
      byDay: rows.byDay,
      byCarrier: rows.byCarrier,
    }
  }

  /** Newest first; `cursor` is the last page's nextCursor. */
  async log(opts: { trackingNumber?: string; limit?: number; cursor?: string }): Promise<{ items: LogEntryRead[]; nextCursor: string | null }> {
    const limit = opts.limit ?? 50
    const tn = opts.trackingNumber === undefined ? undefined : normalizeTrackingNumber(opts.trackingNumber, '/trackingNumber')
    let beforeId: string | undefined
    if (opts.cursor !== undefined) {
      beforeId = Buffer.from(opts.cursor, 'base64url').toString()
      if (!/^[1-9][0-9]{0,18}$/.test(beforeId)) throw invalid('/cursor', 'is not a cursor this list gave')
    }
    const rows = await this.deps.store.log({ trackingNumber: tn, limit: limit + 1, beforeId })
    const items = rows.slice(0, limit)
    return { items, nextCursor: rows.length > limit ? Buffer.from(items.at(-1)!.id).toString('base64url') : null }
  }

  /** Manual checks may spend the whole budget, reserve included; past that they would only wait. */
  private async checkBudget(): Promise<void> {
    if ((await this.deps.store.used(utcDay(this.now()))) >= this.deps.settings.dailyBudget) throw budgetExhausted()
  }
}
