import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { testGateway } from '../app/testing/gateway.js'
import { PostgresCarrierFigures } from '../carrier/figures-postgres.js'
import { CarrierMetrics } from '../carrier/metrics.js'
import { projectRoot } from '../platform/paths.js'
import { metricNames } from '../platform/testing/prometheus.js'
import { processRegistry } from './http.js'

// deployments/prometheus/alerts.yml, read as Prometheus would (promtool is not on every machine):
// each rule is complete, and every metric it names is one a DeliverTrack process exports.

interface Rule {
  alert?: string
  expr?: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

const file = join(projectRoot(), 'deployments', 'prometheus', 'alerts.yml')
const rules = (parse(readFileSync(file, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules)

// What is left of an expression once strings, label matchers, ranges and by/without lists are gone.
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'rate', 'irate', 'increase', 'histogram_quantile', 'by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'bool', 'offset', 'absent'])
function metricsIn(expr: string): string[] {
  const bare = expr.replace(/"[^"]*"/g, '').replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '').replace(/\b(by|without)\s*\([^)]*\)/g, '')
  return [...new Set(bare.match(/[a-zA-Z_:][\w:]*/g) ?? [])].filter((w) => !PROMQL_WORDS.has(w))
}

/** Every series name a registry's text exports; a histogram's are its _bucket, _count and _sum. */
function seriesNames(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!]))
}

t.test('every rule is complete', async (t) => {
  t.ok(rules.length >= 6, 'the alerts of issue 19')
  for (const rule of rules) {
    t.match(rule, { alert: /^[A-Z][A-Za-z]+$/, expr: String, for: /^\d+[smh]$/, labels: { severity: /^(warning|critical)$/ }, annotations: { summary: String, description: String } }, rule.alert ?? 'a rule without a name')
  }
  t.same(new Set(rules.map((r) => r.alert)).size, rules.length, 'names are unique')
})

t.test('every metric an alert names is exported by the gateway or a worker', async (t) => {
  const gw = await testGateway(t)
  t.equal((await gw.app.inject({ method: 'GET', url: '/api/v1/track/NOSUCHTRACKING1' })).statusCode, 404)
  const gateway = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body
  const carriers = new CarrierMetrics({ figures: new PostgresCarrierFigures(gw.pool), dailyBudget: 100, reservePct: 10, log: { warn: () => undefined } })
  const exported = new Set([...seriesNames(gateway), ...seriesNames(await carriers.registry.metrics()), ...seriesNames(await processRegistry().metrics())])
  t.ok(metricNames(gateway).includes('delivertrack_http_request_duration_seconds'), 'the gateway times its requests')

  for (const rule of rules) {
    const names = metricsIn(rule.expr!)
    t.ok(names.length > 0, `${rule.alert} names a metric`)
    for (const name of names) t.ok(exported.has(name), `${rule.alert}: ${name} is exported`)
  }

  // The read alert selects routes by pattern: each must be a GET route the gateway has, labelled as the alert expects.
  const reads = rules.find((r) => r.alert === 'CustomerReadsSlow')!
  const routes = /route=~"([^"]+)"/.exec(reads.expr!)![1]!.split('|')
  for (const url of routes) t.ok(gw.app.hasRoute({ method: 'GET', url }), `GET ${url} is a route`)
  t.match(gateway, /delivertrack_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/track\/:trackingNumber",status_code="404"\} 1/, 'a read is labelled by its route pattern')
})
