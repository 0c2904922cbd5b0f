import t, { type Test } from 'tap'
import { workerChecks } from '../app/checks.js'
import { buildWorkerHealth } from '../app/worker-http.js'
import { sample } from '../platform/testing/prometheus.js'
import { syncFixture, type SyncFixture } from './testing/sync.js'

// The carriers role's figures on a worker's health port, over HTTP, after real
// checks against the sandbox on PostgreSQL and Redis.

async function healthPort(t: Test, fx: SyncFixture) {
  const metrics = fx.worker.carrierMetrics!
  const app = await buildWorkerHealth({ checks: workerChecks({ pool: fx.gw.pool, redis: fx.gw.redis, carriers: metrics }), registries: [metrics.registry] })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return {
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    ready: async () => {
      const res = await fetch(`${base}/health/ready`)
      return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, Record<string, unknown>> } }
    },
  }
}

t.test('a check shows in the calls, the latency, the trackings and the budget', async (t) => {
  const fx = await syncFixture(t, { TRACKING_DAILY_BUDGET: 200, TRACKING_RATE_BUFFER: 10 })
  const http = await healthPort(t, fx)
  await fx.add('SBXINTRANSIT0101')
  await fx.add('SBXINTRANSIT0102')
  const before = await http.metrics()
  t.equal(sample(before, 'delivertrack_carrier_trackings', { state: 'due' }), 2, 'two trackings wait for a worker')
  t.equal(sample(before, 'delivertrack_carrier_budget_remaining_calls'), 200)
  t.equal(sample(before, 'delivertrack_carrier_budget_reserve_calls'), 20)
  t.equal(sample(before, 'delivertrack_carrier_breaker_state', { provider: 'sandbox' }), 0, 'closed')

  t.match(await fx.sync.runOnce(), { called: 2 })
  const after = await http.metrics()
  t.equal(sample(after, 'delivertrack_carrier_provider_calls_total', { provider: 'sandbox', outcome: 'ok' }), 2)
  t.equal(sample(after, 'delivertrack_carrier_provider_call_duration_seconds_count', { provider: 'sandbox' }), 2, 'each call timed')
  t.equal(sample(after, 'delivertrack_carrier_provider_call_duration_seconds_bucket', { provider: 'sandbox', le: '+Inf' }), 2)
  t.equal(sample(after, 'delivertrack_carrier_budget_used_calls'), 2)
  t.equal(sample(after, 'delivertrack_carrier_budget_remaining_calls'), 198, 'the budget fell by the calls made')
  t.equal(sample(after, 'delivertrack_carrier_trackings', { state: 'due' }), 0)
  t.equal(sample(after, 'delivertrack_carrier_trackings', { state: 'scheduled' }), 2, 'asked, and scheduled again')
  t.equal(sample(after, 'delivertrack_carrier_figures_unknown', { name: 'trackings' }), 0)
  t.match(await http.ready(), { status: 200, body: { status: 'ok', checks: { postgres: { ok: true }, carrier: { ok: true, state: 'closed' } } } })
})

t.test('an open breaker shows on /metrics and makes the worker degraded, not down', async (t) => {
  const fx = await syncFixture(t, { TRACKING_MAX_CONCURRENT: 1 })
  const http = await healthPort(t, fx)
  const numbers = ['SBXOFD0201', 'SBXOFD0202', 'SBXOFD0203', 'SBXOFD0204', 'SBXOFD0205', 'SBXOFD0206']
  for (const tn of numbers) await fx.add(tn)
  // Five failures in a row open the breaker (policy.ts); the sixth call is refused without reaching the sandbox.
  fx.sandbox.state.addFault({ mode: 'server_error', status: 503 }, 0)
  t.match(await fx.sync.runOnce(), { called: 6 })

  const text = await http.metrics()
  t.equal(sample(text, 'delivertrack_carrier_breaker_state', { provider: 'sandbox' }), 2, 'open')
  t.equal(sample(text, 'delivertrack_carrier_provider_calls_total', { provider: 'sandbox', outcome: 'server_error' }), 5)
  t.equal(sample(text, 'delivertrack_carrier_provider_calls_total', { provider: 'sandbox', outcome: 'breaker_open' }), 1)
  t.equal(sample(text, 'delivertrack_carrier_provider_call_duration_seconds_count', { provider: 'sandbox' }), 5, 'a refused call is not timed')
  const ready = await http.ready()
  t.equal(ready.status, 200, 'customers still read from the database')
  t.equal(ready.body.status, 'degraded')
  t.match(ready.body.checks.carrier, { ok: false, state: 'open', error: /circuit breaker open for sandbox/ })
  t.match(ready.body.checks.postgres, { ok: true })
})

t.test('a tracking that needs attention is counted as such', async (t) => {
  const fx = await syncFixture(t, { TRACKING_MAX_FAILURES: 1 })
  const http = await healthPort(t, fx)
  await fx.add('SBXOFD0301')
  fx.sandbox.state.addFault({ mode: 'rate_limit', retryAfterS: 30 }, 1)
  await fx.sync.runOnce()
  const text = await http.metrics()
  t.equal(sample(text, 'delivertrack_carrier_provider_calls_total', { provider: 'sandbox', outcome: 'rate_limited' }), 1)
  t.equal(sample(text, 'delivertrack_carrier_trackings', { state: 'requires_attention' }), 1)
})
