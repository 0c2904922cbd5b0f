import { formatNumber } from '../lib/format.js'

export interface Bar {
  label: string
  value: number
  tone?: string
}

/** Horizontal bars with their values written out (the numbers matter more than the bars). */
export function BarChart({ bars, label, unit = '' }: { bars: Bar[]; label: string; unit?: string }) {
  if (bars.length === 0) return <p class="muted">Nothing to show yet.</p>
  const max = Math.max(1, ...bars.map((b) => b.value))
  const row = 28
  const labelW = 150
  const width = 480
  const height = bars.length * row
  return (
    <svg viewBox={`0 0 ${width} ${height}`} class="chart" role="img" aria-label={`${label}: ${bars.map((b) => `${b.label} ${b.value}${unit}`).join(', ')}`}>
      {bars.map((b, i) => {
        const w = Math.max(2, ((width - labelW - 60) * b.value) / max)
        return (
          <g key={b.label} transform={`translate(0 ${i * row})`}>
            <text x={labelW - 8} y={row / 2 + 4} class="chart-label" text-anchor="end">
              {b.label}
            </text>
            <rect x={labelW} y={5} width={w} height={row - 10} rx={3} class={`chart-bar tone-${b.tone ?? 'progress'}`} />
            <text x={labelW + w + 6} y={row / 2 + 4} class="chart-value">
              {formatNumber(b.value)}
              {unit}
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
