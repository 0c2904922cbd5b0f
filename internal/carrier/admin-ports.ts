import type { PackageStatus } from '../package/domain.js'
import type { UpdateLogEntry } from './ports.js'

/** How the admin pages name a tracking's next check or a past one (the contract's job types). */
export type JobType = 'scheduled' | 'manual' | 'retry' | 'cleanup'
/** pending: due now; running: leased by a worker; completed, failed: update log of the last 24 h; attention: requiresAttention. */
export type JobState = 'pending' | 'running' | 'completed' | 'failed' | 'attention'

/** What a refresh request finds under a tracking number. */
export interface RefreshTarget {
  packageId: string
  status: PackageStatus
  /** False: the number is one of our own packages, not a carrier tracking. */
  external: boolean
  active: boolean
  notFound: boolean
}

export interface JobItem {
  jobId: string
  trackingNumber: string
  carrier: string
  type: Exclude<JobType, 'cleanup'>
  state: Exclude<JobState, 'attention'>
  priority: number
  scheduledFor: Date | null
  startedAt: Date | null
  consecutiveFailures: number
  requiresAttention: boolean
  lastCheckedAt: Date | null
  error: string | null
}

export type StateCounts = Record<'pending' | 'running' | 'completed' | 'failed', number>

export interface JobsView {
  counts: Record<JobType, StateCounts>
  oldestPendingAgeS: number
  items: JobItem[]
}

export interface BulkFilter {
  trackingNumbers?: string[]
  status?: PackageStatus
  carrier?: string
  staleForMinutes?: number
}

/** A logged check as the log endpoint reads it: the entry and where it belongs. */
export interface LogEntryRead extends UpdateLogEntry {
  id: string
  trackingNumber: string
  carrier: string
}

export interface UsageRows {
  /** Today's log (webhooks left out): calls, successes, p95 duration. */
  today: { logged: number; succeeded: number; p95Ms: number | null }
  byDay: Array<{ day: string; calls: number; failures: number; statusChanges: number }>
  byCarrier: Record<string, { calls: number; failures: number }>
}

/** The admin pages' reads and the refresh writes, over carrier_trackings and its log. */
export interface CarrierAdminStore {
  target(trackingNumber: string): Promise<RefreshTarget | undefined>
  /**
   * Makes the tracking due at `now` as a manual check (priority 50) by `by`; a check
   * already in flight is left alone (it is the refresh). Returns when it is due.
   */
  requestManual(packageId: string, by: string, now: Date): Promise<Date>
  /** Queues at most `limit` active trackings matching the filter (stalest first); how many were queued and how many matched but were not. */
  requestManualBulk(filter: BulkFilter, by: string, now: Date, limit: number): Promise<{ queued: number; skipped: number }>
  jobs(opts: { state?: JobState; type?: JobType; now: Date; limit: number; cleanupIntervalS: number }): Promise<JobsView>
  usage(opts: { days: number; now: Date }): Promise<UsageRows>
  log(opts: { trackingNumber?: string; limit: number; beforeId?: string }): Promise<LogEntryRead[]>
  /** Provider calls used on the UTC day. */
  used(day: string): Promise<number>
}
