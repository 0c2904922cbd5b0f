import type pg from 'pg'
import type { DayRow, DriverRow, MetricsReader } from './ports.js'

/**
 * Orders per day from $1 to $2: the series supplies the empty days, the aggregate
 * rows come from a range scan of the primary key (exported for bench:charts' plan).
 */
export const ORDERS_BY_DAY_SQL = `SELECT to_char(s.day, 'YYYY-MM-DD') AS day,
    coalesce(o.created, 0) AS created, coalesce(o.delivered, 0) AS delivered,
    coalesce(o.failed_attempts, 0) AS "failedAttempts", coalesce(o.exceptions, 0) AS exceptions,
    coalesce(o.delivered_estimated, 0) AS "deliveredEstimated", coalesce(o.delivered_on_time, 0) AS "deliveredOnTime"
  FROM generate_series($1::date, $2::date, interval '1 day') AS s(day)
  LEFT JOIN (SELECT * FROM metrics_orders_by_day WHERE day BETWEEN $1::date AND $2::date) o ON o.day = s.day::date
  ORDER BY s.day`

/** Reads of the aggregate tables (migration 0014); days are UTC calendar days. */
export class PostgresMetricsReader implements MetricsReader {
  constructor(private readonly pool: pg.Pool) {}

  async ordersByDay(from: string, to: string): Promise<DayRow[]> {
    const { rows } = await this.pool.query<DayRow>(ORDERS_BY_DAY_SQL, [from, to])
    return rows
  }

  async drivers(from: string, to: string): Promise<DriverRow[]> {
    const { rows } = await this.pool.query<Omit<DriverRow, 'medianAcceptToDeliveredS'> & { median: number | null }>(
      `WITH r AS (SELECT * FROM metrics_driver_day WHERE day BETWEEN $1::date AND $2::date),
       totals AS (
         SELECT driver_id, sum(delivered)::int AS delivered, sum(delivered_estimated)::int AS estimated, sum(delivered_on_time)::int AS on_time
         FROM r GROUP BY driver_id),
       medians AS (
         SELECT driver_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS median
         FROM r CROSS JOIN LATERAL unnest(r.accept_to_delivered_s) AS s GROUP BY driver_id)
       SELECT t.driver_id AS "driverId", u.name, t.delivered, t.estimated AS "deliveredEstimated", t.on_time AS "deliveredOnTime", m.median
       FROM totals t LEFT JOIN medians m USING (driver_id) LEFT JOIN users u ON u.id = t.driver_id
       ORDER BY t.delivered DESC, t.driver_id`,
      [from, to],
    )
    return rows.map(({ median, ...r }) => ({ ...r, medianAcceptToDeliveredS: median === null ? null : Math.round(median) }))
  }
}
