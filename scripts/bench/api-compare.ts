// bench:api's comparison of its two passes: each embedded figure as a ratio of the
// services mode's from the same run, held to issue 16's aim of at least half.
import type { Measured } from './api-load.js'
import { fmtInt, type Mode, type Phase } from './api-settings.js'

/** Everything one run measured: the ceiling and each mode's pass (empty when not run). */
export interface Results {
  ceiling?: Measured
  passes: Record<Mode, Map<Phase, Measured>>
}

export const allMeasured = (r: Results): Measured[] => [...(r.ceiling ? [r.ceiling] : []), ...r.passes.services.values(), ...r.passes.embedded.values()]

export interface Comparison {
  key: Phase
  figure: string
  services: string
  embedded: string
  /** The embedded figure divided by the services one; unset when they do not compare. */
  ratio?: number
  /** Higher is better (throughput, share), or lower (latency: "half as good" is twice the p99). */
  better: 'higher' | 'lower'
  meets?: boolean
  note?: string
}

const pct = (n: number) => `${Math.round(n * 100)}%`
const ms = (n: number) => `${n.toFixed(2)} ms`
const COMPARED = ['track', 'get', 'status', 'status-paced'] as const

/** One comparison per figure the embedded pass measured. */
export function compare(r: Results): Comparison[] {
  const out: Comparison[] = []
  const ceiling = r.ceiling?.reqPerSec
  for (const key of COMPARED) {
    const e = r.passes.embedded.get(key)
    if (!e) continue
    const s = r.passes.services.get(key)
    if (key === 'status-paced') {
      const served = (m: Measured) => `p99 ${ms(m.p99)}, ${fmtInt(m.reqPerSec)} of ${fmtInt(m.offered ?? 0)} req/s served`
      const c: Comparison = { key, figure: 'status update p99 at the paced rate', services: s ? served(s) : '-', embedded: served(e), better: 'lower' }
      if (!s) c.note = 'services not measured in this run'
      else if (s.offered !== e.offered) c.note = `not comparable: offered ${fmtInt(e.offered ?? 0)} req/s embedded, ${fmtInt(s.offered ?? 0)} services`
      else {
        c.ratio = e.p99 / s.p99
        c.meets = c.ratio <= 2 && e.reqPerSec >= (e.offered ?? 0) * 0.98
      }
      out.push(c)
      continue
    }
    const share = key !== 'status' && ceiling !== undefined
    const show = (m: Measured) => (share ? `${pct(m.reqPerSec / ceiling)} of ceiling (${fmtInt(m.reqPerSec)} req/s)` : `${fmtInt(m.reqPerSec)} req/s`)
    const figure = key === 'track' ? '/track (cache hit)' + (share ? ', share of ceiling' : ', req/s') : key === 'get' ? 'authenticated GET /packages/:tn' + (share ? ', share of ceiling' : ', req/s') : 'status updates/s flat out'
    const c: Comparison = { key, figure, services: s ? show(s) : '-', embedded: show(e), better: 'higher' }
    if (!s) c.note = 'services not measured in this run'
    else {
      // Both shares are of the same ceiling, so their ratio is that of the req/s.
      c.ratio = e.reqPerSec / s.reqPerSec
      c.meets = c.ratio >= 0.5
    }
    out.push(c)
  }
  return out
}

export const ratioText = (c: Comparison) => (c.ratio === undefined ? '-' : `${c.ratio.toFixed(2)}x`)
/** What "at least half" means for this figure. */
export const aimText = (c: Comparison) => (c.better === 'higher' ? '>= 0.5x services' : "p99 <= 2x services', all served")
export const meetsText = (c: Comparison) => (c.meets === undefined ? `n/a (${c.note})` : c.meets ? 'yes' : 'NO')
