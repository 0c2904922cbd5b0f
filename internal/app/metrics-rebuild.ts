import type pg from 'pg'
import { foldEvents } from '../charts/domain.js'
import { PostgresMetricsStore } from '../charts/postgres.js'

/** Recomputes the chart aggregates from the package event log in one transaction (`npm run metrics:rebuild`). */
export function rebuildMetrics(pool: pg.Pool): Promise<{ packages: number; events: number }> {
  return new PostgresMetricsStore(pool).rebuild(foldEvents)
}
