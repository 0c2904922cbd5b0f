import type { Written } from '../package/ports.js'
import { AppError, invalid, notFound, unauthorized } from '../platform/errors.js'
import { planSnapshot, type SnapshotPlan } from './plan.js'
import { BadRequest, type CarrierProvider, type Schedule } from './ports.js'
import { INACTIVE, scheduleCheck, type SyncSettings } from './sync-service.js'
import type { PushStore } from './webhooks-postgres.js'

export interface CarrierWebhooksDeps {
  /** The providers whose pushes are taken, by the name in the path (the configured one). */
  providers: readonly CarrierProvider[]
  store: PushStore
  settings: Pick<SyncSettings, 'frequency' | 'holidays'>
  clock?: () => Date
  random?: () => number
  /** After a push was applied: the number's cached reads are stale, its events go out. */
  applied?(trackingNumber: string, written: Written): void
}

/**
 * Inbound provider pushes: verified against the provider's HMAC (constant time),
 * applied once by checkpoint identity, logged as a `webhook` check that costs no
 * budget, and the next scheduled check moved later (the push told us the news).
 */
export class CarrierWebhooks {
  private readonly now: () => Date
  private readonly random: () => number

  constructor(private readonly deps: CarrierWebhooksDeps) {
    this.now = deps.clock ?? (() => new Date())
    this.random = deps.random ?? Math.random
  }

  async receive(providerName: string, headers: Record<string, string | string[] | undefined>, rawBody: Buffer): Promise<{ applied: boolean; eventsAdded: number }> {
    const provider = this.deps.providers.find((p) => p.name === providerName)
    if (!provider) throw notFound('carrier provider')
    if (!provider.verifyWebhook(headers, rawBody)) throw unauthorized('missing or bad webhook signature')
    let update
    try {
      update = provider.parseWebhook(rawBody)
    } catch (err) {
      if (err instanceof BadRequest) throw invalid('', err.message)
      throw err
    }
    const tracking = await this.deps.store.find(update.trackingNumber)
    // Not ours (removed, or registered by someone else at the provider): acknowledged, so the provider stops retrying.
    if (!tracking) return { applied: false, eventsAdded: 0 }
    const t0 = performance.now()
    const startedAt = this.now()
    const snap = update.snapshot
    const target = { ...tracking, trackingNumber: update.trackingNumber }
    const { written, plan } = await this.deps.store.apply(target, (pkg, applied) => planSnapshot(pkg, snap, applied, startedAt), (p: SnapshotPlan) => ({
      schedule: snap.notFound ? INACTIVE : this.schedule(p, startedAt),
      hash: snap.hash,
      notFound: snap.notFound === true,
      log: {
        type: 'webhook',
        triggeredBy: provider.name,
        provider: provider.name,
        success: true,
        durationMs: performance.now() - t0,
        statusChanged: p.newStatus !== p.previousStatus,
        previousStatus: p.previousStatus,
        newStatus: p.newStatus,
        eventsAdded: p.change.events.length,
        startedAt,
      },
    }), startedAt).catch((err: unknown) => {
      // Deleted between the look-up and the lock: nothing to apply.
      if (err instanceof AppError && err.kind === 'not_found') return undefined
      throw err
    }) ?? {}
    if (!written || !plan) return { applied: false, eventsAdded: 0 }
    this.deps.applied?.(update.trackingNumber, written)
    return { applied: true, eventsAdded: plan.change.events.length }
  }

  /** The schedule from the pushed status, as a successful check would set it, for a tracking fed by pushes. */
  private schedule(plan: SnapshotPlan, now: Date): Schedule {
    const s = this.deps.settings
    return scheduleCheck({ status: plan.newStatus, estimatedDelivery: plan.change.next.estimatedDelivery, failures: 0, now, fed: s.frequency.pushedMin > 0, settings: s, random: this.random })
  }
}
