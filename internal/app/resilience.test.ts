import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { Principal } from '../auth/domain.js'
import { bearer } from './testing/gateway.js'
import { eventLog, makeEvents } from './testing/events.js'
import { startWorker, workerGateway } from './testing/worker.js'
import { buildWorkerHealth } from './worker-http.js'
import type { Worker } from './worker.js'
import { eventually, testVhost } from '../platform/testing/broker.js'
import { sample } from '../platform/testing/prometheus.js'
import { Breakers, DEFAULT_BREAKER } from '../platform/resilience.js'
import { startReceiver } from '../platform/testing/receiver.js'
import { startS3 } from '../platform/testing/s3.js'

// Breakers around outside calls (platform/resilience.ts), against real receivers, s3rver and
// the broker: two failures open a breaker, which lets one trial through 3 s later. The queue
// retries every 100-300 ms with a budget that outlasts the open breaker, so nothing is dead-lettered.
const amqpUrl = await testVhost(t)
const ENV = { BREAKER_FAILURES: '2', BREAKER_HALF_OPEN_AFTER_MS: '3000', WORKER_RETRY_DELAYS_MS: '100,200,300', WORKER_MAX_ATTEMPTS: '100' }
const admin: Principal = { id: randomUUID(), role: 'admin', kind: 'user' }

/** The breaker's value in the worker's /metrics: 0 closed, 1 half-open, 2 open; undefined when absent. */
async function breakerGauge(t: Test, worker: Worker) {
  const health = await buildWorkerHealth({ checks: {}, registries: [worker.breakers.registry] })
  t.teardown(() => health.close())
  return async (breaker: string) => sample((await health.inject({ method: 'GET', url: '/metrics' })).body, 'delivertrack_breaker_state', { breaker })
}

t.test('a failing webhook endpoint opens its own breaker; its events wait and arrive once it recovers', async (t) => {
  const gw = await workerGateway(t, amqpUrl, ENV)
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['webhooks'], env: ENV })
  const state = await breakerGauge(t, w.worker)
  const user = await gw.user('admin')
  const register = async (url: string) => (await gw.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: bearer(user.token), payload: { url, events: ['package.created'] } })).json() as { id: string }
  const broken = await startReceiver(t, () => 503)
  const healthy = await startReceiver(t)
  const bad = await register(broken.url)
  const good = await register(healthy.url)

  await makeEvents(gw, 3)
  const created = (await eventLog(gw)).filter((e) => e.type === 'package.created').map((e) => e.id)
  t.equal(created.length, 3)
  await eventually(async () => (await state(`webhook:${bad.id}`)) === 2, 'the failing endpoint\'s breaker to open')
  await eventually(() => healthy.requests.length === 3, 'the healthy endpoint to get every event')
  t.equal(await state(`webhook:${good.id}`), 0, 'the healthy endpoint\'s breaker stays closed')

  // Open: the events are retried by the queue but nothing reaches the endpoint.
  const sent = broken.requests.length
  t.ok(sent >= 2 && sent <= 3, `${sent} failures opened it (the events were in flight together)`)
  const refused = w.worker.webhooks!.counters.refused
  await eventually(() => w.worker.webhooks!.counters.refused >= refused + 3, 'retries refused by the open breaker')
  t.equal(broken.requests.length, sent, 'calls fail fast while the breaker is open')

  // After the interval one trial goes through; it fails and the breaker opens again.
  await eventually(() => broken.requests.length > sent, 'the half-open trial', 15_000)
  await eventually(async () => (await state(`webhook:${bad.id}`)) === 2, 'the breaker open again')
  t.equal(broken.requests.length, sent + 1, 'half-open lets one trial call through')

  // Fixed: the next trial succeeds, the breaker closes and every waiting event is delivered once.
  broken.respond = () => 200
  const deliveries = async () =>
    ((await gw.app.inject({ method: 'GET', url: `/api/v1/webhooks/${bad.id}/deliveries`, headers: bearer(user.token) })).json() as { items: Array<{ eventId: string; status: string }> }).items
  await eventually(async () => (await deliveries()).filter((d) => d.status === 'succeeded').length === 3, 'every event delivered to the recovered endpoint', 20_000)
  t.equal(await state(`webhook:${bad.id}`), 0, 'closed again')
  const delivered = broken.requests.slice(sent + 1).map((r) => r.headers['x-delivertrack-event-id'])
  t.same(delivered.sort(), [...created].sort(), 'each waiting event arrived exactly once after the breaker closed')
  t.equal(healthy.requests.length, 3, 'the healthy endpoint got each event once')
  t.equal(w.worker.consumers[0]!.counters.deadLettered, 0, 'nothing dead-lettered')
})

t.test('S3 down opens the bucket\'s breaker; the archive catches up once it is back', async (t) => {
  const s3 = await startS3(t)
  const env = { ...ENV, ...s3.env }
  const gw = await workerGateway(t, amqpUrl, env)
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['archive'], env })
  const state = await breakerGauge(t, w.worker)
  t.equal(await state(`s3:${s3.bucket}`), 0)

  await s3.stop()
  await makeEvents(gw, 3)
  await eventually(async () => (await state(`s3:${s3.bucket}`)) === 2, 'the bucket\'s breaker to open')
  await s3.start()
  const log = await eventLog(gw)
  const rows = await eventually(async () => {
    const r = await s3.rows()
    return r.length >= log.length && r
  }, 'every event archived', 20_000)
  const ids = rows.map((r) => r.row.id as string)
  t.equal(new Set(ids).size, ids.length, 'no event archived twice')
  t.same(new Set(ids), new Set(log.map((e) => e.id)), 'no event lost while the breaker was open')
  t.equal(await state(`s3:${s3.bucket}`), 0, 'closed again')
})

t.test('SNS failing opens its breaker; each notification is published once after it closes', async (t) => {
  let up = false
  const sns = await startReceiver(t, () => (up ? 200 : 500), (_req, code) =>
    code === 200
      ? `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`
      : '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>down</Message></Error></ErrorResponse>',
  )
  const env = { ...ENV, SNS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:delivertrack-status', SNS_ENDPOINT: sns.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key' }
  const gw = await workerGateway(t, amqpUrl, env)
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['notify'], env })
  const state = await breakerGauge(t, w.worker)
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Ann' } })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'in_transit' })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'out_for_delivery' })
  await eventually(async () => (await state('sns')) === 2, 'the SNS breaker to open')
  const failed = sns.requests.length
  up = true
  await eventually(() => w.worker.notify!.counters.sent === 2, 'both notifications published')
  const published = sns.requests.slice(failed).map((r) => (JSON.parse(new URLSearchParams(r.body).get('Message')!) as { id: string }).id)
  const changes = (await eventLog(gw)).filter((e) => e.type === 'package.status_changed').map((e) => e.id)
  t.same(published.sort(), changes.sort(), 'each status change published once after the breaker closed')
  t.equal(await state('sns'), 0, 'closed again')
})

t.test('per-endpoint breakers are bounded: the least recently used goes first, a disabled endpoint\'s at once', async (t) => {
  const breakers = new Breakers(DEFAULT_BREAKER, 2)
  const opts = { concurrency: 1, queue: 0 }
  const a = breakers.keyed('webhook:a', opts)
  breakers.keyed('webhook:b', opts)
  t.equal(breakers.keyed('webhook:a', opts), a, 'the same breaker for the same endpoint')
  breakers.keyed('webhook:c', opts)
  t.same(Object.keys(breakers.states()).sort(), ['webhook:a', 'webhook:c'])
  breakers.forget('webhook:a')
  t.same(Object.keys(breakers.states()), ['webhook:c'])
})
