// What the Carrier sync page shows, as pure functions of the API's answers.
import type { ApiError } from '../api/base-query.js'
import type { BulkRefreshAccepted, CarrierJob, CarrierJobs, CarrierLogEntry, CarrierUsage } from '../api/carrier.js'
import { formatRelative } from './format.js'

export const JOB_STATES = ['pending', 'running', 'completed', 'failed'] as const
// Claim order first (manual 50, retry 75, scheduled 100, cleanup 200), then anything new.
const TYPE_ORDER = ['manual', 'retry', 'scheduled', 'cleanup']

export const BUDGET_SPENT = "Today's budget is spent; scheduled checks resume tomorrow"

export interface QueueRow {
  type: string
  pending: number
  running: number
  completed: number
  failed: number
}

/** One row per job type, in claim order; a state the server left out counts 0. */
export function queueRows(counts: CarrierJobs['counts']): QueueRow[] {
  const types = Object.keys(counts).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  return types.map((type) => {
    const c = counts[type] ?? {}
    return { type, pending: c.pending ?? 0, running: c.running ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 }
  })
}

const rank = (type: string) => (TYPE_ORDER.includes(type) ? TYPE_ORDER.indexOf(type) : TYPE_ORDER.length)

export const totalPending = (rows: QueueRow[]) => rows.reduce((n, r) => n + r.pending, 0)

/** Trackings someone should look at: raised attention or a failed job, each number once. */
export function needsAttention(items: CarrierJob[]): CarrierJob[] {
  const seen = new Set<string>()
  return items.filter((j) => {
    if (!(j.requiresAttention || j.state === 'failed') || seen.has(j.trackingNumber)) return false
    seen.add(j.trackingNumber)
    return true
  })
}

export interface BudgetView {
  calls: number
  budget: number
  reserve: number
  /** Calls scheduled checks may use; the rest is kept for manual refreshes. */
  scheduledShare: number
  /** 'open': scheduled checks run; 'reserve': only manual refreshes; 'spent': nothing until tomorrow. */
  state: 'open' | 'reserve' | 'spent'
  /** The sentence the page shows about it, if any. */
  note?: string
}

export function budgetView(today: CarrierUsage['today']): BudgetView {
  const scheduledShare = Math.max(0, today.budget - today.reserve)
  const base = { calls: today.calls, budget: today.budget, reserve: today.reserve, scheduledShare }
  if (today.remaining <= 0 || today.calls >= today.budget) return { ...base, state: 'spent', note: `${BUDGET_SPENT}.` }
  if (today.calls >= scheduledShare) {
    const left = today.remaining
    return { ...base, state: 'reserve', note: `Scheduled checks are paused until tomorrow; ${left} manual ${left === 1 ? 'refresh is' : 'refreshes are'} left in the reserve.` }
  }
  return { ...base, state: 'open' }
}

/** A refresh the server refused, in words. */
export function refreshErrorText(e: ApiError): string {
  if (e.status === 429 || e.code === 'budget_exhausted') return BUDGET_SPENT
  if (e.status === 409) return 'This tracking is final: the carrier is not asked again'
  if (e.status === 404) return 'No carrier tracking with this number'
  if (e.status === 403) return 'Only an admin can refresh a tracking'
  return `The refresh failed: ${e.message}`
}

/** "checked with the carrier 5 minutes ago", or that it has not been asked yet. */
export function checkedPhrase(lastCheckedAt: string | null | undefined, now = Date.now()): string {
  return lastCheckedAt ? `checked with the carrier ${formatRelative(lastCheckedAt, now)}` : 'not checked with the carrier yet'
}

/** What one update-log line did, in a few words: "in transit → delivered, 2 events", "unchanged", "failed: ...". */
export function logOutcome(e: CarrierLogEntry): string {
  if (!e.success) return `failed: ${e.error ?? (e.statusCode ? `HTTP ${e.statusCode}` : 'no answer')}`
  const events = e.eventsAdded === 0 ? '' : `, ${e.eventsAdded} ${e.eventsAdded === 1 ? 'event' : 'events'}`
  if (e.statusChanged && e.previousStatus && e.newStatus) return `${e.previousStatus.replaceAll('_', ' ')} → ${e.newStatus.replaceAll('_', ' ')}${events}`
  return e.eventsAdded === 0 ? 'unchanged' : `no status change${events}`
}

/** Who or what asked: the schedule, an overdue read, an admin, or the provider's push. */
export function logSource(e: CarrierLogEntry): string {
  if (e.type === 'webhook') return `push from ${e.triggeredBy}`
  if (e.type === 'manual') return 'manual refresh'
  return e.triggeredBy === 'read' ? 'overdue read' : 'schedule'
}

/** The answer to "Refresh all" in words. */
export function bulkOutcomeText(r: BulkRefreshAccepted): string {
  const queued = `${r.queued} ${r.queued === 1 ? 'tracking' : 'trackings'} queued`
  return r.skipped === 0 ? queued : `${queued}, ${r.skipped} skipped (final, unknown or already being asked)`
}
