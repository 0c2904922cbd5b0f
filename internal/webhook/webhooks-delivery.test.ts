import { Writable } from 'node:stream'
import pino from 'pino'
import t, { type Test } from 'tap'
import { requestIdMixin } from '../platform/request-context.js'
import { bearer, type TestGateway } from '../app/testing/gateway.js'
import { eventually, testVhost } from '../platform/testing/broker.js'
import { eventLog } from '../app/testing/events.js'
import { startReceiver } from '../platform/testing/receiver.js'
import { startWorker, workerGateway } from '../app/testing/worker.js'
import { PostgresWebhookRepository } from './postgres.js'
import { SIGNATURE_HEADER, verify } from './signature.js'

// A real HTTP receiver on 127.0.0.1 (listed in WEBHOOK_ALLOWED_HOSTS by the test env).
const amqpUrl = await testVhost(t)

async function setup(t: Test, env: Record<string, string> = {}, log?: pino.Logger) {
  const gw = await workerGateway(t, amqpUrl, env)
  const admin = await gw.user('admin')
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['webhooks'], env, ...(log ? { log } : {}) })
  const register = async (url: string, events: string[]) => {
    const res = await gw.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: bearer(admin.token), payload: { url, events } })
    t.equal(res.statusCode, 201)
    return res.json() as { id: string; secret: string }
  }
  const deliveries = async (id: string) =>
    (await gw.app.inject({ method: 'GET', url: `/api/v1/webhooks/${id}/deliveries`, headers: bearer(admin.token) })).json() as {
      items: Array<{ eventId: string; eventType: string; status: string; attempts: Array<{ attempt: number; statusCode: number | null; latencyMs: number; error: string | null }> }>
    }
  const consumer = w.worker.consumers[0]!
  return { gw, admin, w, register, deliveries, consumer }
}

const newPackage = (gw: TestGateway) => gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Ann' } })

t.test('signed deliveries; 500 and 429 are retried until a 2xx; every attempt is kept', async (t) => {
  const { gw, register, deliveries, consumer } = await setup(t)
  const receiver = await startReceiver(t, (_req, n) => (n === 1 ? 500 : n === 2 ? 429 : 200))
  const hook = await register(`${receiver.url}/hooks`, ['package.created'])
  const pkg = await newPackage(gw)
  await eventually(async () => (await deliveries(hook.id)).items[0]?.status === 'succeeded', 'the delivery to succeed')
  const [event] = (await eventLog(gw)).filter((e) => e.type === 'package.created' && e.tracking_number === pkg.trackingNumber)
  t.equal(receiver.requests.length, 3)
  for (const req of receiver.requests) {
    t.equal(req.path, '/hooks')
    t.equal(req.headers['content-type'], 'application/json')
    t.equal(req.headers['x-delivertrack-event-id'], event!.id, 'the same event id header on every attempt')
    t.ok(verify(hook.secret, req.headers[SIGNATURE_HEADER] as string, req.body), 'the receiver verifies the signature')
    t.notOk(verify(hook.secret, req.headers[SIGNATURE_HEADER] as string, req.body.replace('package.created', 'package.deleted')), 'a changed body does not verify')
    t.notOk(verify('whsec_someone-else', req.headers[SIGNATURE_HEADER] as string, req.body))
    t.match(req.headers[SIGNATURE_HEADER], /^t=\d+,v1=[0-9a-f]{64}$/)
    t.match(JSON.parse(req.body), { id: event!.id, type: 'package.created', trackingNumber: pkg.trackingNumber, seq: 1, data: { status: 'pending' } })
  }
  const [d] = (await deliveries(hook.id)).items
  t.match(d, { eventId: event!.id, eventType: 'package.created', status: 'succeeded' })
  t.same(d!.attempts.map((a) => [a.attempt, a.statusCode]), [[1, 500], [2, 429], [3, 200]])
  t.ok(d!.attempts.every((a) => Number.isInteger(a.latencyMs) && a.latencyMs >= 0), 'latency recorded')
  t.equal(consumer.counters.retried, 2)
})

t.test('a 4xx is final: one attempt, not retried', async (t) => {
  const { gw, register, deliveries, consumer } = await setup(t)
  const receiver = await startReceiver(t, () => 410)
  const hook = await register(receiver.url, ['*'])
  await newPackage(gw)
  await eventually(async () => (await deliveries(hook.id)).items[0]?.status === 'failed', 'the delivery to fail')
  await eventually(() => consumer.counters.acked === 1, 'the event acknowledged')
  t.equal(consumer.counters.retried, 0, 'no retry was scheduled')
  t.equal(receiver.requests.length, 1)
  t.same((await deliveries(hook.id)).items[0]!.attempts.map((a) => a.statusCode), [410])
})

t.test('after the last attempt the event is dead-lettered and the delivery marked dead; dlq:requeue tries it again', async (t) => {
  const { gw, admin, w, register, deliveries, consumer } = await setup(t, { WORKER_MAX_ATTEMPTS: '3' })
  let answer = 503
  const receiver = await startReceiver(t, () => answer)
  const hook = await register(receiver.url, ['package.created'])
  await newPackage(gw)
  await eventually(async () => (await deliveries(hook.id)).items[0]?.status === 'dead', 'the delivery to die')
  const stats = await eventually(async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(admin.token) })
    const q = (res.json() as { queues: Record<string, { deadLetters: number }> }).queues['delivertrack.webhooks']
    return q?.deadLetters === 1 && q
  }, 'the dead letter to be counted')
  t.match(stats, { deadLetters: 1, retrying: 0 })
  t.equal(receiver.requests.length, 3)
  t.same((await deliveries(hook.id)).items[0]!.attempts.map((a) => a.statusCode), [503, 503, 503])
  t.equal(consumer.counters.deadLettered, 1)

  // The receiver is fixed; the operator puts the dead letter back.
  answer = 200
  t.same(await w.bus.requeueDeadLetters('webhooks'), { requeued: 1, remaining: 0 })
  await eventually(async () => (await deliveries(hook.id)).items[0]?.status === 'succeeded', 'the requeued delivery to succeed')
  t.same((await deliveries(hook.id)).items[0]!.attempts.map((a) => [a.attempt, a.statusCode]), [[1, 503], [2, 503], [3, 503], [4, 200]], 'the requeue is a fourth attempt')
  t.equal(receiver.requests.length, 4)
})

t.test('an endpoint failing for too long is disabled; the others keep receiving', async (t) => {
  const { gw, admin, register, deliveries, consumer } = await setup(t, { WEBHOOK_DISABLE_AFTER_FAILURES: '3', WEBHOOK_DISABLE_AFTER_S: '0', WORKER_MAX_ATTEMPTS: '10' })
  const broken = await startReceiver(t, () => 500)
  const healthy = await startReceiver(t)
  const bad = await register(broken.url, ['package.created'])
  const good = await register(healthy.url, ['package.created'])
  await newPackage(gw)
  await eventually(async () => {
    const list = (await gw.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: bearer(admin.token) })).json() as { items: Array<{ id: string; status: string }> }
    return list.items.find((h) => h.id === bad.id)?.status === 'disabled'
  }, 'the failing endpoint to be disabled')
  t.equal(broken.requests.length, 3)
  await eventually(() => consumer.counters.acked === 1, 'the event finished once the endpoint was disabled')
  t.equal((await deliveries(bad.id)).items[0]!.status, 'failed')

  await newPackage(gw)
  await eventually(() => consumer.counters.acked === 2, 'the next event handled')
  t.equal(broken.requests.length, 3, 'nothing more sent to the disabled endpoint')
  t.equal(healthy.requests.length, 2, 'the healthy endpoint got both events once')
  t.same((await deliveries(good.id)).items.map((d) => d.status), ['succeeded', 'succeeded'])

  // The receiver is fixed; the admin re-enables the endpoint and it gets the next event.
  broken.respond = () => 200
  const enabled = await gw.app.inject({ method: 'POST', url: `/api/v1/webhooks/${bad.id}/enable`, headers: bearer(admin.token) })
  t.equal(enabled.statusCode, 200)
  t.match(enabled.json(), { id: bad.id, status: 'active', consecutiveFailures: 0, disabledAt: null })
  await newPackage(gw)
  await eventually(() => consumer.counters.acked === 3, 'the third event handled')
  t.equal(broken.requests.length, 4, 'the re-enabled endpoint received the new event (not the one it missed)')
  t.same((await deliveries(bad.id)).items.map((d) => d.status), ['succeeded', 'failed'])
})

t.test('a host that resolves to a private address at delivery time is refused, not retried', async (t) => {
  const { gw, deliveries, consumer } = await setup(t)
  const receiver = await startReceiver(t)
  // As if its DNS changed after registration: `localhost` (not in WEBHOOK_ALLOWED_HOSTS) resolves to loopback.
  const hook = await new PostgresWebhookRepository(gw.pool).create({ url: `http://localhost:${receiver.port}/x`, events: ['*'], secret: 'whsec_test-secret-0123456789' })
  await newPackage(gw)
  await eventually(async () => (await deliveries(hook.id)).items[0]?.status === 'failed', 'the delivery to be refused')
  await eventually(() => consumer.counters.acked === 1, 'the event acknowledged')
  const [attempt] = (await deliveries(hook.id)).items[0]!.attempts
  t.match(attempt, { statusCode: null, error: /private, loopback or link-local|refused/ })
  t.equal(receiver.requests.length, 0, 'nothing reached the address')
  t.equal(consumer.counters.retried, 0)
})

t.test('one request id, followed from the HTTP call to the receiver and the worker log', async (t) => {
  // The worker's log as cmd/worker writes it (the same mixin), kept in memory.
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) })
  const { gw, admin, register, deliveries } = await setup(t, {}, pino({ level: 'info', mixin: requestIdMixin }, sink))
  const receiver = await startReceiver(t, (_req, n) => (n === 1 ? 503 : 200))
  const hook = await register(`${receiver.url}/hooks`, ['package.created'])
  const requestId = 'checkout-7f3a.attempt:1'
  const res = await gw.app.inject({ method: 'POST', url: '/api/v1/packages', headers: { ...bearer(admin.token), 'x-request-id': requestId }, payload: { sender: { name: 'Shop' }, recipient: { name: 'Ann' } } })
  t.equal(res.statusCode, 201)
  t.equal(res.headers['x-request-id'], requestId, 'the gateway kept the caller\'s id')
  await eventually(async () => (await deliveries(hook.id)).items[0]?.status === 'succeeded', 'the delivery to succeed')
  t.same(receiver.requests.map((r) => r.headers['x-request-id']), [requestId, requestId], 'both attempts carry it as x-request-id')
  t.equal(JSON.parse(receiver.requests[0]!.body).requestId, requestId, 'and the envelope too')
  const failed = lines.find((l) => l.msg === 'event failed; retrying later')
  t.match(failed, { requestId, role: 'webhooks' }, 'the worker\'s log line about the failed attempt names the request')
  const { rows } = await gw.pool.query<{ request_id: string | null }>(`SELECT request_id FROM package_events WHERE tracking_number = $1 AND type = 'package.created'`, [res.json().trackingNumber])
  t.same(rows, [{ request_id: requestId }], 'the event log recorded it')
})
