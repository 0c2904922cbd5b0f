/**
 * The value of one sample in Prometheus text: `name` with exactly `labels`
 * (order does not matter); undefined when there is no such sample.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const got = (m[2] ?? '').split(/,(?=\w+=")/).filter(Boolean).sort().join(',')
    if (got === wanted) return Number(m[3])
  }
  return undefined
}

/** Every metric name a registry's text declares (its `# TYPE` lines). */
export function metricNames(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]!)
}
