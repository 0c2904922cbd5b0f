// The dashboard's history: /stats gives running totals; the charts want rates.

export interface Sample {
  /** When the sample was taken (ms). */
  at: number
  published: number
  delivered: number
  connections: number
}

/** Appends a sample, keeping the newest `max`; a repeated timestamp replaces nothing. */
export function pushSample(series: readonly Sample[], sample: Sample, max = 60): Sample[] {
  const last = series[series.length - 1]
  if (last && sample.at <= last.at) return series as Sample[]
  const next = [...series, sample]
  return next.length > max ? next.slice(next.length - max) : next
}

/**
 * Per-minute rates of a running total between consecutive samples. A total that
 * went down (the gateway restarted) counts as a fresh start, never a negative rate.
 */
export function perMinute(series: readonly Sample[], key: 'published' | 'delivered'): number[] {
  const rates: number[] = []
  for (let i = 1; i < series.length; i++) {
    const a = series[i - 1]!
    const b = series[i]!
    const dt = b.at - a.at
    if (dt <= 0) continue
    const delta = b[key] >= a[key] ? b[key] - a[key] : b[key]
    rates.push(Math.round((delta / dt) * 60_000 * 10) / 10)
  }
  return rates
}
