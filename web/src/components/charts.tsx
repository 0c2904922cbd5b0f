import { formatNumber } from '../lib/format.js'

export interface Bar {
  label: string
  value: number
  tone?: string
  /** Written after the value, e.g. a median. */
  note?: string
}

/** Horizontal bars with their values written out (the numbers matter more than the bars). */
export function BarChart({ bars, label, unit = '' }: { bars: Bar[]; label: string; unit?: string }) {
  if (bars.length === 0) return <p class="muted">Nothing to show yet.</p>
  const max = Math.max(1, ...bars.map((b) => b.value))
  const row = 28
  const labelW = 150
  const width = 480
  const height = bars.length * row
  // Room right of the longest bar for its value (and note).
  const room = bars.some((b) => b.note) ? 190 : 60
  return (
    <svg viewBox={`0 0 ${width} ${height}`} class="chart" role="img" aria-label={`${label}: ${bars.map((b) => `${b.label} ${b.value}${unit}${b.note ? ` (${b.note})` : ''}`).join(', ')}`}>
      {bars.map((b, i) => {
        const w = Math.max(2, ((width - labelW - room) * b.value) / max)
        return (
          <g key={b.label} transform={`translate(0 ${i * row})`}>
            <text x={labelW - 8} y={row / 2 + 4} class="chart-label" text-anchor="end">
              {b.label}
            </text>
            <rect x={labelW} y={5} width={w} height={row - 10} rx={3} class={`chart-bar tone-${b.tone ?? 'progress'}`} />
            <text x={labelW + w + 6} y={row / 2 + 4} class="chart-value">
              {formatNumber(b.value)}
              {unit}
              {b.note && ` · ${b.note}`}
            </text>
          </g>
        )
      })}
    </svg>
  )
}

/** A small line chart of the latest values, newest on the right. */
export function Sparkline({ values, label, unit = '' }: { values: number[]; label: string; unit?: string }) {
  const width = 480
  const height = 120
  const pad = 8
  const top = 24 // room for the peak label above the line
  const last = values[values.length - 1]
  const now = last === undefined ? null : (
    <p class="chart-now">
      {formatNumber(last)}
      {unit} <small>now</small>
    </p>
  )
  if (values.length < 2) {
    return (
      <>
        {now}
        <p class="muted">Collecting data… (a point every few seconds)</p>
      </>
    )
  }
  const max = Math.max(1, ...values)
  const step = (width - 2 * pad) / (values.length - 1)
  const pts = values.map((v, i) => `${(pad + i * step).toFixed(1)},${(height - pad - ((height - pad - top) * v) / max).toFixed(1)}`)
  return (
    <>
      {now}
      <svg viewBox={`0 0 ${width} ${height}`} class="chart" role="img" aria-label={`${label}: now ${last}${unit}, peak ${max}${unit}`}>
        <line x1={pad} y1={height - pad} x2={width - pad} y2={height - pad} class="chart-axis" />
        <line x1={pad} y1={top} x2={width - pad} y2={top} class="chart-axis" stroke-dasharray="4 4" />
        <polygon points={`${pad},${height - pad} ${pts.join(' ')} ${width - pad},${height - pad}`} class="chart-area" />
        <polyline points={pts.join(' ')} class="chart-line" />
        <text x={width - pad} y={top - 6} class="chart-label" text-anchor="end">
          peak {formatNumber(max)}
          {unit}
        </text>
      </svg>
    </>
  )
}

export interface DayPair {
  day: string
  created: number
  delivered: number
}

/** Created and delivered per day as paired columns, oldest on the left; the figures are in the label. */
export function DayColumns({ days, label }: { days: DayPair[]; label: string }) {
  if (days.length === 0) return <p class="muted">Nothing to show yet.</p>
  const width = 480
  const height = 150
  const bottom = 20 // room for the day labels
  const top = 8
  const max = Math.max(1, ...days.map((d) => Math.max(d.created, d.delivered)))
  const slot = width / days.length
  const bar = Math.max(1, slot / 2 - 1)
  const y = (v: number) => height - bottom - ((height - bottom - top) * v) / max
  const ticks = [0, Math.floor((days.length - 1) / 2), days.length - 1]
  const totals = days.reduce((s, d) => ({ created: s.created + d.created, delivered: s.delivered + d.delivered }), { created: 0, delivered: 0 })
  return (
    <svg viewBox={`0 0 ${width} ${height}`} class="chart" role="img" aria-label={`${label}: ${formatNumber(totals.created)} created and ${formatNumber(totals.delivered)} delivered in ${days.length} days, peak ${formatNumber(max)} a day`}>
      <line x1={0} y1={height - bottom} x2={width} y2={height - bottom} class="chart-axis" />
      {days.map((d, i) => (
        <g key={d.day} transform={`translate(${(i * slot).toFixed(1)} 0)`}>
          <title>{`${d.day}: ${d.created} created, ${d.delivered} delivered`}</title>
          <rect x={0.5} y={y(d.created)} width={bar} height={height - bottom - y(d.created)} class="chart-bar tone-progress" />
          <rect x={0.5 + bar} y={y(d.delivered)} width={bar} height={height - bottom - y(d.delivered)} class="chart-bar tone-good" />
        </g>
      ))}
      {ticks.map((i) => (
        <text key={i} x={Math.min(width - 2, Math.max(2, i * slot + slot / 2))} y={height - 5} class="chart-label" text-anchor={i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle'}>
          {days[i]!.day.slice(5)}
        </text>
      ))}
    </svg>
  )
}
