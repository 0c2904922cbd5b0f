import { api } from './api.js'

// The admin side of carrier trackings (shared/API.md, "Carrier trackings").

export type CarrierJobType = 'scheduled' | 'manual' | 'retry' | 'cleanup'
export type CarrierJobState = 'pending' | 'running' | 'completed' | 'failed'

export type JobCounts = Record<CarrierJobState, number>

/** One tracking in the queue, as /carrier-sync/jobs lists it. */
export interface CarrierJob {
  /** The tracking's package id: the tracking row is its own job. */
  jobId: string
  trackingNumber: string
  carrier: string
  type: CarrierJobType | string
  state: CarrierJobState | string
  priority: number
  scheduledFor: string | null
  startedAt: string | null
  consecutiveFailures: number
  requiresAttention: boolean
  lastCheckedAt: string | null
  error: string | null
}

export interface CarrierJobs {
  counts: Partial<Record<string, Partial<JobCounts>>>
  /** Seconds the longest-waiting due check has waited (0: none). */
  oldestPendingAgeS: number
  items: CarrierJob[]
}

export interface CarrierUsage {
  today: { calls: number; budget: number; reserve: number; remaining: number; successRate: number | null; p95Ms: number | null }
  byDay: Array<{ day: string; calls: number; failures: number; statusChanges: number }>
  byCarrier: Record<string, { calls: number; failures: number }>
}

export interface RefreshAccepted {
  jobId: string
  scheduledFor: string
}

export interface BulkRefreshAccepted {
  queued: number
  skipped: number
}

/** One line of the update log: a check (scheduled or manual) or a push. */
export interface CarrierLogEntry {
  id: string
  trackingNumber: string
  carrier: string
  type: 'scheduled' | 'manual' | 'webhook' | string
  triggeredBy: string
  success: boolean
  statusCode?: number
  durationMs: number
  error?: string
  statusChanged: boolean
  previousStatus?: string
  newStatus?: string
  eventsAdded: number
  startedAt: string
}

const enc = encodeURIComponent

export const carrierApi = api.injectEndpoints({
  endpoints: (build) => ({
    // `state: 'attention'`: the trackings requiring attention, whatever their state.
    getCarrierJobs: build.query<CarrierJobs, { state?: CarrierJobState | 'attention'; type?: CarrierJobType } | void>({
      query: (q) => ({ url: '/carrier-sync/jobs', params: q ?? {} }),
      providesTags: [{ type: 'CarrierSync', id: 'JOBS' }],
      keepUnusedDataFor: 5,
    }),
    getCarrierUsage: build.query<CarrierUsage, number | void>({
      query: (days) => ({ url: '/carrier-sync/usage', params: { days: days ?? 7 } }),
      providesTags: [{ type: 'CarrierSync', id: 'USAGE' }],
      keepUnusedDataFor: 5,
    }),
    refreshTracking: build.mutation<RefreshAccepted, string>({
      query: (tn) => ({ url: `/carrier-sync/refresh/${enc(tn)}`, method: 'POST' }),
      // The queue and the budget change at once; the package moves when the worker has asked.
      invalidatesTags: [{ type: 'CarrierSync', id: 'JOBS' }, { type: 'CarrierSync', id: 'USAGE' }],
    }),
    bulkRefresh: build.mutation<BulkRefreshAccepted, { trackingNumbers: string[] }>({
      query: (body) => ({ url: '/carrier-sync/bulk-refresh', method: 'POST', body }),
      invalidatesTags: [{ type: 'CarrierSync', id: 'JOBS' }, { type: 'CarrierSync', id: 'USAGE' }],
    }),
    getCarrierLog: build.query<{ items: CarrierLogEntry[] }, { limit: number; trackingNumber?: string }>({
      query: (q) => ({ url: '/carrier-sync/log', params: q }),
      providesTags: [{ type: 'CarrierSync', id: 'LOG' }],
      keepUnusedDataFor: 5,
    }),
  }),
})

export const { useGetCarrierJobsQuery, useGetCarrierUsageQuery, useRefreshTrackingMutation, useBulkRefreshMutation, useGetCarrierLogQuery } = carrierApi
