import type { ApiError } from '../../api/base-query.js'
import { useGetDriverFiguresQuery, useGetOrdersByDayQuery, type DayRange } from '../../api/staff.js'
import { ErrorNote, Loading } from '../../components/bits.js'
import { BarChart, DayColumns } from '../../components/charts.js'
import { formatDuration, formatNumber } from '../../lib/format.js'

const DAYS = 30
// The figures follow events through the metrics worker: a fresh look now and then suffices.
const POLL_MS = 10_000

/** The last `days` UTC calendar days, today included, as the charts' query. */
export function lastDays(days: number, now = new Date()): DayRange {
  const day = (d: Date) => d.toISOString().slice(0, 10)
  return { from: day(new Date(now.getTime() - (days - 1) * 86_400_000)), to: day(now) }
}

const percent = (rate: number | null) => (rate === null ? 'no estimate' : `${Math.round(rate * 100)}% on time`)

/** Orders per day and deliveries per driver over the last 30 days. */
export function DeliveryCharts() {
  const range = lastDays(DAYS)
  const opts = { pollingInterval: POLL_MS, skipPollingIfUnfocused: true }
  const orders = useGetOrdersByDayQuery(range, opts)
  const drivers = useGetDriverFiguresQuery(range, opts)
  const today = orders.data?.items.find((d) => d.day === range.to)

  return (
    <>
      <section class="card" aria-labelledby="orders-by-day">
        <h2 id="orders-by-day">Orders by day</h2>
        {orders.error ? (
          <ErrorNote>The daily figures could not be loaded: {(orders.error as ApiError).message}</ErrorNote>
        ) : !orders.data ? (
          <Loading />
        ) : (
          <>
            <p class="chart-now" data-testid="orders-today">
              Today: {formatNumber(today?.created ?? 0)} created, {formatNumber(today?.delivered ?? 0)} delivered <small>{percent(today?.onTimeRate ?? null)}</small>
            </p>
            <DayColumns days={orders.data.items} label={`Orders by day, last ${DAYS} days`} />
            <p class="chart-legend">
              <span class="swatch tone-progress" /> created <span class="swatch tone-good" /> delivered
            </p>
          </>
        )}
      </section>
      <section class="card" aria-labelledby="by-driver">
        <h2 id="by-driver">Deliveries by driver</h2>
        <p class="muted">Last {DAYS} days; the median is from acceptance to delivery.</p>
        {drivers.error ? (
          <ErrorNote>The driver figures could not be loaded: {(drivers.error as ApiError).message}</ErrorNote>
        ) : !drivers.data ? (
          <Loading />
        ) : (
          <BarChart
            label="Deliveries by driver"
            bars={drivers.data.items.map((d) => ({
              label: d.name ?? 'Deleted account',
              value: d.delivered,
              tone: 'good',
              note: d.medianAcceptToDeliveredS === null ? 'no median' : `median ${formatDuration(d.medianAcceptToDeliveredS)}`,
            }))}
          />
        )}
      </section>
    </>
  )
}
