import { useEffect, useState } from 'preact/hooks'
import { useGetStatsQuery } from '../../api/admin.js'
import type { ApiError } from '../../api/base-query.js'
import { STATUSES, STATUS_LABELS, STATUS_TONES } from '../../api/statuses.js'
import { ErrorNote, Loading } from '../../components/bits.js'
import { BarChart, Sparkline } from '../../components/charts.js'
import { DeliveryCharts } from './delivery-charts.js'
import { formatDuration, formatNumber } from '../../lib/format.js'
import { perMinute, pushSample, type Sample } from '../../lib/stats-series.js'

const POLL_MS = 5000

/** A figure the gateway could not read in time comes as null. */
const orUnknown = (n: number | null) => (n === null ? '—' : formatNumber(n))

/** Operations at a glance, polled every few seconds while the tab is visible. */
export default function StatsPage() {
  const { data, error, isLoading, fulfilledTimeStamp } = useGetStatsQuery(undefined, { pollingInterval: POLL_MS, skipPollingIfUnfocused: true })
  const [series, setSeries] = useState<Sample[]>([])
  useEffect(() => {
    if (!data || !fulfilledTimeStamp) return
    setSeries((s) => pushSample(s, { at: fulfilledTimeStamp, published: data.events.published, delivered: data.events.delivered ?? 0, connections: data.websocket.connections }))
  }, [data, fulfilledTimeStamp])

  if (isLoading) return <Loading label="Loading figures…" />
  if (error || !data) return <ErrorNote>Figures could not be loaded: {(error as ApiError | undefined)?.message ?? 'unknown error'}</ErrorNote>

  const byStatus = STATUSES.filter((s) => (data.packages.byStatus[s] ?? 0) > 0).map((s) => ({ label: STATUS_LABELS[s], value: data.packages.byStatus[s] ?? 0, tone: STATUS_TONES[s] }))
  const queues = Object.entries(data.queues).map(([name, q]) => ({ label: name.replace(/^delivertrack\./, ''), value: q.messages, tone: q.messages > 0 ? 'warn' : 'good' }))
  const rates = perMinute(series, 'published')
  const hitRatio = data.cache.hits + data.cache.misses > 0 ? Math.round((100 * data.cache.hits) / (data.cache.hits + data.cache.misses)) : undefined

  return (
    <section aria-labelledby="stats-title">
      <div class="page-head">
        <h1 id="stats-title">Operations</h1>
        <span class="muted">Refreshes every {POLL_MS / 1000} s · up {formatDuration(data.uptimeS)}</span>
      </div>
      <div class="tiles">
        <Tile label="Packages" value={orUnknown(data.packages.total)} />
        <Tile label="WebSocket connections" value={formatNumber(data.websocket.connections)} sub={`${formatNumber(data.websocket.subscriptions)} subscriptions`} />
        <Tile label="Events published" value={formatNumber(data.events.published)} sub={`${orUnknown(data.events.outboxPending)} waiting in the outbox`} />
        <Tile label="Cache hit ratio" value={hitRatio === undefined ? '—' : `${hitRatio}%`} sub={`${formatNumber(data.cache.hits)} hits, ${formatNumber(data.cache.misses)} misses`} />
      </div>
      <div class="two-col">
        <section class="card" aria-labelledby="by-status">
          <h2 id="by-status">Packages by status</h2>
          <BarChart bars={byStatus} label="Packages by status" />
        </section>
        <section class="card" aria-labelledby="per-minute">
          <h2 id="per-minute">Events per minute</h2>
          <Sparkline values={rates} label="Events published per minute" unit="/min" />
        </section>
        <section class="card" aria-labelledby="ws-chart">
          <h2 id="ws-chart">WebSocket connections</h2>
          <Sparkline values={series.map((s) => s.connections)} label="Open WebSocket connections" />
        </section>
        <DeliveryCharts />
        <section class="card" aria-labelledby="queues">
          <h2 id="queues">Queue depths</h2>
          {data.unknown?.includes('queues') ? <p class="muted">The broker did not answer in time.</p> : queues.length === 0 ? <p class="muted">No queues reported by the broker.</p> : <BarChart bars={queues} label="Messages waiting per queue" />}
        </section>
      </div>
    </section>
  )
}

function Tile({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return (
    <div class="tile card">
      <span class="tile-label">{label}</span>
      <span class="tile-value">{value}</span>
      {sub && <span class="tile-sub">{sub}</span>}
    </div>
  )
}
