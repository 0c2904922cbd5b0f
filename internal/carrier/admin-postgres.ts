import type pg from 'pg'
import { STATUSES, isTerminal, type PackageStatus } from '../package/domain.js'
import type { BulkFilter, CarrierAdminStore, JobItem, JobState, JobType, JobsView, LogEntryRead, RefreshTarget, StateCounts, UsageRows } from './admin-ports.js'
import { cleanupCounts } from './cleanup-postgres.js'

const FINAL = STATUSES.filter(isTerminal)

/** The type a tracking's next check has: a manual request, a retry after a failure (priority 75), else the schedule. */
const NEXT_TYPE = `CASE WHEN t.next_type = 'manual' THEN 'manual' WHEN t.priority = 75 THEN 'retry' ELSE 'scheduled' END`
/** A tracking whose lease is in force is being asked about; one due again (lease run out or never claimed) is pending. */
const STATE = `CASE WHEN t.next_update_due <= $1 THEN 'pending' WHEN t.claim_token IS NOT NULL THEN 'running' END`
/** A logged check is a retry when the check before it (pushes aside) failed. */
const LOGGED_TYPE = `CASE WHEN l.type = 'manual' THEN 'manual' WHEN prev.success = false THEN 'retry' ELSE 'scheduled' END`
const PREVIOUS = `LEFT JOIN LATERAL (SELECT p.success FROM carrier_update_log p WHERE p.package_id = l.package_id AND p.type <> 'webhook' AND p.id < l.id ORDER BY p.id DESC LIMIT 1) prev ON true`

const LIVE = `FROM carrier_trackings t JOIN packages p ON p.id = t.package_id AND p.deleted_at IS NULL WHERE t.active`

/** A manual request: due now at priority 50, unless a worker's lease is in force (that check is the refresh). */
const MANUAL_SET = `next_type = 'manual', next_triggered_by = $2, priority = 50, next_update_due = LEAST(coalesce(t.next_update_due, $3), $3)`

const BULK_SQL = `WITH matched AS (
    SELECT t.package_id, t.claim_token IS NOT NULL AND t.next_update_due > $3 AS running, t.last_checked_at
    FROM carrier_trackings t JOIN packages p ON p.id = t.package_id AND p.deleted_at IS NULL
    WHERE t.active AND NOT t.not_found AND p.status <> ALL($8::text[])
      AND ($4::text[] IS NULL OR p.tracking_number = ANY($4)) AND ($5::text IS NULL OR p.status = $5)
      AND ($6::text IS NULL OR t.carrier = $6)
      AND ($7::int IS NULL OR coalesce(t.last_checked_at, '-infinity') < $3::timestamptz - make_interval(mins => $7))),
  picked AS (
    SELECT t.package_id FROM carrier_trackings t JOIN matched m USING (package_id) WHERE NOT m.running
    ORDER BY m.last_checked_at NULLS FIRST LIMIT $1 FOR UPDATE OF t SKIP LOCKED),
  queued AS (UPDATE carrier_trackings t SET ${MANUAL_SET} FROM picked WHERE t.package_id = picked.package_id RETURNING 1)
  SELECT (SELECT count(*) FROM queued)::int AS queued, (SELECT count(*) FROM matched)::int AS matched`

interface ItemRow {
  job_id: string
  tracking_number: string
  carrier: string
  type: JobItem['type']
  state: JobItem['state']
  priority: number
  scheduled_for: Date | null
  started_at: Date | null
  consecutive_failures: number
  requires_attention: boolean
  last_checked_at: Date | null
  error: string | null
}

const PRIORITY_OF = `CASE $T WHEN 'manual' THEN 50 WHEN 'retry' THEN 75 ELSE 100 END`

const QUEUE_ITEMS = `SELECT t.package_id AS job_id, p.tracking_number, t.carrier, ${NEXT_TYPE} AS type, ${STATE} AS state, t.priority,
    CASE WHEN t.claim_token IS NULL OR t.next_update_due <= $1 THEN t.next_update_due END AS scheduled_for,
    CASE WHEN t.claim_token IS NOT NULL AND t.next_update_due > $1 THEN t.next_update_due - make_interval(secs => $5) END AS started_at,
    t.consecutive_failures, t.requires_attention, t.last_checked_at, t.last_error AS error
  ${LIVE} AND ($2::text IS NULL OR ${NEXT_TYPE} = $2) AND ($3::text IS NULL OR ($3 = 'attention' AND t.requires_attention) OR ${STATE} = $3)
    AND ($3 IS NOT NULL OR ${STATE} IS NOT NULL)
  ORDER BY t.priority, t.next_update_due LIMIT $4`

const LOG_ITEMS = `SELECT l.package_id AS job_id, l.tracking_number, l.carrier, ${LOGGED_TYPE} AS type,
    CASE WHEN l.success THEN 'completed' ELSE 'failed' END AS state, ${PRIORITY_OF.replace('$T', LOGGED_TYPE)} AS priority,
    NULL::timestamptz AS scheduled_for, l.started_at, coalesce(t.consecutive_failures, 0) AS consecutive_failures,
    coalesce(t.requires_attention, false) AS requires_attention, t.last_checked_at, l.error
  FROM carrier_update_log l ${PREVIOUS} LEFT JOIN carrier_trackings t ON t.package_id = l.package_id
  WHERE l.type <> 'webhook' AND l.started_at > $1::timestamptz - interval '24 hours' AND l.success = ($3 = 'completed')
    AND ($2::text IS NULL OR ${LOGGED_TYPE} = $2)
  ORDER BY l.id DESC LIMIT $4`

const QUEUE_COUNTS = `SELECT ${NEXT_TYPE} AS type, count(*) FILTER (WHERE ${STATE} = 'pending')::int AS pending,
    count(*) FILTER (WHERE ${STATE} = 'running')::int AS running,
    coalesce(max(extract(epoch FROM $1::timestamptz - t.next_update_due)) FILTER (WHERE ${STATE} = 'pending'), 0)::float8 AS oldest
  ${LIVE} AND t.next_update_due IS NOT NULL AND (t.next_update_due <= $1 OR t.claim_token IS NOT NULL) GROUP BY 1`

const LOG_COUNTS = `SELECT ${LOGGED_TYPE} AS type, count(*) FILTER (WHERE l.success)::int AS completed, count(*) FILTER (WHERE NOT l.success)::int AS failed
  FROM carrier_update_log l ${PREVIOUS}
  WHERE l.type <> 'webhook' AND l.started_at > $1::timestamptz - interval '24 hours' GROUP BY 1`

const BY_DAY = `SELECT to_char(d, 'YYYY-MM-DD') AS day, coalesce(b.used, 0)::int AS calls,
    (SELECT count(*) FROM carrier_update_log l WHERE l.started_at >= d AT TIME ZONE 'UTC' AND l.started_at < (d + interval '1 day') AT TIME ZONE 'UTC' AND l.type <> 'webhook' AND NOT l.success)::int AS failures,
    (SELECT count(*) FROM carrier_update_log l WHERE l.started_at >= d AT TIME ZONE 'UTC' AND l.started_at < (d + interval '1 day') AT TIME ZONE 'UTC' AND l.status_changed)::int AS status_changes
  FROM generate_series($1::date::timestamp, $2::date::timestamp, interval '1 day') d LEFT JOIN carrier_budget b ON b.day = d::date
  ORDER BY d`

const TODAY = `SELECT count(*)::int AS logged, count(*) FILTER (WHERE success)::int AS succeeded,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p95
  FROM carrier_update_log WHERE type <> 'webhook' AND started_at >= $1::date::timestamp AT TIME ZONE 'UTC'`

const BY_CARRIER = `SELECT carrier, count(*)::int AS calls, count(*) FILTER (WHERE NOT success)::int AS failures
  FROM carrier_update_log WHERE type <> 'webhook' AND started_at >= $1::date::timestamp AT TIME ZONE 'UTC' GROUP BY carrier ORDER BY carrier`

const LOG_SQL = `SELECT id::text, tracking_number, carrier, provider, type, triggered_by, success, status_code, duration_ms, error, status_changed,
    previous_status, new_status, events_added, started_at
  FROM carrier_update_log
  WHERE ($1::text IS NULL OR package_id IN (SELECT id FROM packages WHERE tracking_number = $1)) AND ($2::bigint IS NULL OR id < $2)
  ORDER BY id DESC LIMIT $3`

interface LogRow {
  id: string
  tracking_number: string
  carrier: string
  provider: string
  type: LogEntryRead['type']
  triggered_by: string
  success: boolean
  status_code: number | null
  duration_ms: number
  error: string | null
  status_changed: boolean
  previous_status: PackageStatus | null
  new_status: PackageStatus | null
  events_added: number
  started_at: Date
}

const zero = (): StateCounts => ({ pending: 0, running: 0, completed: 0, failed: 0 })
const day = (d: Date) => d.toISOString().slice(0, 10)

export class PostgresCarrierAdminStore implements CarrierAdminStore {
  /** `leaseS`: how long a claim holds, to date a running check's start. */
  constructor(private readonly pool: pg.Pool, private readonly opts: { leaseS: number }) {}

  async target(trackingNumber: string): Promise<RefreshTarget | undefined> {
    const { rows } = await this.pool.query<{ id: string; status: PackageStatus; external: boolean; active: boolean | null; not_found: boolean | null }>(
      `SELECT p.id, p.status, t.package_id IS NOT NULL AS external, t.active, t.not_found
       FROM packages p LEFT JOIN carrier_trackings t ON t.package_id = p.id WHERE p.tracking_number = $1 AND p.deleted_at IS NULL`,
      [trackingNumber],
    )
    const r = rows[0]
    return r && { packageId: r.id, status: r.status, external: r.external, active: r.active === true, notFound: r.not_found === true }
  }

  async requestManual(packageId: string, by: string, now: Date): Promise<Date> {
    const { rows } = await this.pool.query<{ due: Date }>(
      `UPDATE carrier_trackings t SET ${MANUAL_SET} WHERE t.package_id = $1 AND t.active AND (t.claim_token IS NULL OR t.next_update_due <= $3) RETURNING t.next_update_due AS due`,
      [packageId, by, now],
    )
    return rows[0]?.due ?? now
  }

  async requestManualBulk(f: BulkFilter, by: string, now: Date, limit: number): Promise<{ queued: number; skipped: number }> {
    const { rows } = await this.pool.query<{ queued: number; matched: number }>(BULK_SQL, [
      limit, by, now, f.trackingNumbers ?? null, f.status ?? null, f.carrier ?? null, f.staleForMinutes ?? null, FINAL,
    ])
    const { queued, matched } = rows[0]!
    // Numbers asked for by name that are not queued are skipped, whether unknown, final or in flight.
    return { queued, skipped: f.trackingNumbers ? f.trackingNumbers.length - queued : matched - queued }
  }

  async jobs(opts: { state?: JobState; type?: JobType; now: Date; limit: number; cleanupIntervalS: number }): Promise<JobsView> {
    const counts: JobsView['counts'] = { scheduled: zero(), manual: zero(), retry: zero(), cleanup: zero() }
    let oldest = 0
    const [queue, logged, cleanup] = await Promise.all([
      this.pool.query<{ type: JobType; pending: number; running: number; oldest: number }>(QUEUE_COUNTS, [opts.now]),
      this.pool.query<{ type: JobType; completed: number; failed: number }>(LOG_COUNTS, [opts.now]),
      cleanupCounts(this.pool, opts.now, opts.cleanupIntervalS),
    ])
    for (const r of queue.rows) {
      Object.assign(counts[r.type], { pending: r.pending, running: r.running })
      oldest = Math.max(oldest, r.oldest)
    }
    for (const r of logged.rows) Object.assign(counts[r.type], { completed: r.completed, failed: r.failed })
    counts.cleanup = cleanup
    const type = opts.type === 'cleanup' ? undefined : opts.type
    let items: ItemRow[] = []
    if (opts.type !== 'cleanup') {
      const done = opts.state === 'completed' || opts.state === 'failed'
      const { rows } = done
        ? await this.pool.query<ItemRow>(LOG_ITEMS, [opts.now, type ?? null, opts.state, opts.limit])
        : await this.pool.query<ItemRow>(QUEUE_ITEMS, [opts.now, type ?? null, opts.state ?? null, opts.limit, this.opts.leaseS])
      items = rows
    }
    return {
      counts,
      oldestPendingAgeS: Math.max(0, Math.round(oldest)),
      items: items.map((r) => ({
        jobId: r.job_id,
        trackingNumber: r.tracking_number,
        carrier: r.carrier,
        type: r.type,
        // An attention item not due and not leased waits for its next check: pending, at its due time.
        state: r.state ?? 'pending',
        priority: r.priority,
        scheduledFor: r.scheduled_for,
        startedAt: r.started_at,
        consecutiveFailures: r.consecutive_failures,
        requiresAttention: r.requires_attention,
        lastCheckedAt: r.last_checked_at,
        error: r.error,
      })),
    }
  }

  async usage(opts: { days: number; now: Date }): Promise<UsageRows> {
    const today = day(opts.now)
    const from = day(new Date(opts.now.getTime() - (opts.days - 1) * 86_400_000))
    const [t, byDay, byCarrier] = await Promise.all([
      this.pool.query<{ logged: number; succeeded: number; p95: number | null }>(TODAY, [today]),
      this.pool.query<{ day: string; calls: number; failures: number; status_changes: number }>(BY_DAY, [from, today]),
      this.pool.query<{ carrier: string; calls: number; failures: number }>(BY_CARRIER, [from]),
    ])
    const row = t.rows[0]!
    return {
      today: { logged: row.logged, succeeded: row.succeeded, p95Ms: row.p95 === null ? null : Math.round(row.p95) },
      byDay: byDay.rows.map((r) => ({ day: r.day, calls: r.calls, failures: r.failures, statusChanges: r.status_changes })),
      byCarrier: Object.fromEntries(byCarrier.rows.map((r) => [r.carrier, { calls: r.calls, failures: r.failures }])),
    }
  }

  async log(opts: { trackingNumber?: string; limit: number; beforeId?: string }): Promise<LogEntryRead[]> {
    const { rows } = await this.pool.query<LogRow>(LOG_SQL, [opts.trackingNumber ?? null, opts.beforeId ?? null, opts.limit])
    return rows.map((r) => ({
      id: r.id,
      trackingNumber: r.tracking_number,
      carrier: r.carrier,
      provider: r.provider,
      type: r.type,
      triggeredBy: r.triggered_by,
      success: r.success,
      ...(r.status_code !== null ? { statusCode: r.status_code } : {}),
      durationMs: r.duration_ms,
      ...(r.error !== null ? { error: r.error } : {}),
      statusChanged: r.status_changed,
      ...(r.previous_status ? { previousStatus: r.previous_status } : {}),
      ...(r.new_status ? { newStatus: r.new_status } : {}),
      eventsAdded: r.events_added,
      startedAt: r.started_at,
    }))
  }

  async used(d: string): Promise<number> {
    const { rows } = await this.pool.query<{ used: number }>('SELECT used FROM carrier_budget WHERE day = $1::date', [d])
    return rows[0]?.used ?? 0
  }
}
