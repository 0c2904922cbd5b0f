import type { CarrierUsage } from '../api/carrier.js'
import type { BudgetView } from '../lib/carrier-sync.js'
import { formatNumber } from '../lib/format.js'

type Day = CarrierUsage['byDay'][number]

const SERIES: Array<{ key: 'calls' | 'failures' | 'statusChanges'; label: string; tone: string }> = [
  { key: 'calls', label: 'calls', tone: 'progress' },
  { key: 'failures', label: 'failures', tone: 'bad' },
  { key: 'statusChanges', label: 'status changes', tone: 'good' },
]

/** Calls, failures and status changes per day as grouped columns, oldest on the left; totals in the label. */
export function CarrierDays({ days }: { days: Day[] }) {
  if (days.length === 0) return <p class="muted">No provider calls yet.</p>
  const width = 480
  const height = 150
  const bottom = 20
  const top = 8
  const max = Math.max(1, ...days.map((d) => Math.max(d.calls, d.failures, d.statusChanges)))
  const slot = width / days.length
  const bar = Math.max(1, (slot - 6) / SERIES.length)
  const y = (v: number) => height - bottom - ((height - bottom - top) * v) / max
  const sum = (key: (typeof SERIES)[number]['key']) => days.reduce((n, d) => n + d[key], 0)
  const label = `Carrier calls by day, last ${days.length} days: ${SERIES.map((s) => `${formatNumber(sum(s.key))} ${s.label}`).join(', ')}`
  return (
    <>
      <svg viewBox={`0 0 ${width} ${height}`} class="chart" role="img" aria-label={label}>
        <line x1={0} y1={height - bottom} x2={width} y2={height - bottom} class="chart-axis" />
        {days.map((d, i) => (
          <g key={d.day} transform={`translate(${(i * slot + 3).toFixed(1)} 0)`}>
            <title>{`${d.day}: ${d.calls} calls, ${d.failures} failures, ${d.statusChanges} status changes`}</title>
            {SERIES.map((s, k) => (
              <rect key={s.key} x={k * bar} y={y(d[s.key])} width={Math.max(1, bar - 1)} height={height - bottom - y(d[s.key])} class={`chart-bar tone-${s.tone}`} />
            ))}
            <text x={(slot - 6) / 2} y={height - 5} class="chart-label" text-anchor="middle">
              {d.day.slice(5)}
            </text>
          </g>
        ))}
      </svg>
      <p class="chart-legend legend-row">
        {SERIES.map((s) => (
          <span key={s.key} class="chart-legend">
            <span class={`swatch tone-${s.tone}`} /> {s.label}
          </span>
        ))}
      </p>
    </>
  )
}

/** Today's calls against the budget, with the reserve for manual refreshes marked at the end. */
export function BudgetBar({ view }: { view: BudgetView }) {
  const width = 480
  const height = 36
  const scale = (n: number) => (view.budget > 0 ? (width * Math.min(n, view.budget)) / view.budget : 0)
  const label = `${formatNumber(view.calls)} of ${formatNumber(view.budget)} calls used today, ${formatNumber(view.reserve)} kept for manual refreshes`
  return (
    <>
      <svg viewBox={`0 0 ${width} ${height}`} class="chart budget-bar" role="img" aria-label={label} data-state={view.state}>
        <rect x={0} y={6} width={width} height={20} rx={4} class="budget-track" />
        <rect x={scale(view.scheduledShare)} y={6} width={width - scale(view.scheduledShare)} height={20} class="budget-reserve" />
        <rect x={0} y={6} width={scale(view.calls)} height={20} rx={4} class={`chart-bar tone-${view.state === 'open' ? 'progress' : view.state === 'reserve' ? 'warn' : 'bad'}`} />
        <line x1={scale(view.scheduledShare)} y1={2} x2={scale(view.scheduledShare)} y2={30} class="chart-axis" />
      </svg>
      <p class="budget-figures" data-testid="budget-today">
        {formatNumber(view.calls)} of {formatNumber(view.budget)} calls today · reserve {formatNumber(view.reserve)}
      </p>
    </>
  )
}
