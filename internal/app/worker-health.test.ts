import t from 'tap'
import { startSandbox } from '../carrier/sandbox/server.js'
import { eventually, testVhost } from '../platform/testing/broker.js'
import { sample } from '../platform/testing/prometheus.js'
import { bearer, testGateway } from './testing/gateway.js'
import { spawnWorker } from './testing/process.js'

// cmd/worker as a process: its health port, and its /metrics after real carrier checks.

const amqpUrl = await testVhost(t)

t.test('the worker answers /health, /health/ready and /metrics on HEALTH_PORT', async (t) => {
  const gw = await testGateway(t)
  const sandbox = await startSandbox()
  t.teardown(() => sandbox.close())
  const worker = spawnWorker(t, gw, amqpUrl, ['--only', 'carriers'], {
    CARRIER_PROVIDER: 'sandbox',
    CARRIER_API_URL: sandbox.url,
    REDIS_URL: gw.urls.redisUrl,
    TRACKING_POLL_INTERVAL_MS: '100',
    TRACKING_DAILY_BUDGET: '50',
    LOG_LEVEL: 'info',
  })
  const base = await eventually(() => /"address":"(http:[^"]+)"/.exec(worker.output())?.[1], 'the worker to listen on its health port', 60_000)

  t.same(await (await fetch(`${base}/health`)).json(), { status: 'ok' })
  const ready = await fetch(`${base}/health/ready`)
  t.equal(ready.status, 200)
  t.match(await ready.json(), { status: 'ok', checks: { postgres: { ok: true }, redis: { ok: true }, carrier: { ok: true, state: 'closed' } } })
  const idle = await (await fetch(`${base}/metrics`)).text()
  t.equal(sample(idle, 'delivertrack_carrier_budget_remaining_calls'), 50)
  t.ok(sample(idle, 'delivertrack_process_resident_memory_bytes'), 'and the process\'s own figures')

  const customer = await gw.user('customer')
  const added = await gw.app.inject({ method: 'POST', url: '/api/v1/me/trackings', headers: bearer(customer.token), payload: { trackingNumber: 'SBXDELIVERED0401', carrier: 'ups' } })
  t.equal(added.statusCode, 201)
  const text = await eventually(async () => {
    const body = await (await fetch(`${base}/metrics`)).text()
    return sample(body, 'delivertrack_carrier_provider_calls_total', { provider: 'sandbox', outcome: 'ok' }) === 1 && body
  }, 'the worker to ask the sandbox', 30_000)
  t.equal(sample(text, 'delivertrack_carrier_provider_call_duration_seconds_count', { provider: 'sandbox' }), 1)
  t.equal(sample(text, 'delivertrack_carrier_budget_remaining_calls'), 49, 'the call came out of the budget')
  t.equal(sample(text, 'delivertrack_carrier_breaker_state', { provider: 'sandbox' }), 0)

  worker.child.kill('SIGTERM')
  t.equal(await worker.exited, 0, `graceful exit (output: ${worker.output().slice(-500)})`)
})
