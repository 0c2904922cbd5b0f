import t, { type Test } from 'tap'
import { testVhost } from '../platform/testing/broker.js'
import { tcpProxy } from '../platform/testing/tcp-proxy.js'
import { connect, createPackage, isEvent, isType, listen, postStatus, waitFor } from '../realtime/testing/ws-client.js'
import { bearer, testGateway, type TestGateway } from './testing/gateway.js'

// Gateway A reaches RabbitMQ through a TCP proxy that the test cuts or stalls (a
// blackhole: connections accepted, nothing answered, nothing closed); gateway B
// talks to RabbitMQ directly and shows what reached the broker. A's heartbeat is
// long, so only an active probe can notice the stall in time.

const amqpUrl = await testVhost(t)
const env = { AMQP_URL: amqpUrl, WORKER_QUEUES: 'archive' }

interface Ready {
  status: string
  checks: Record<string, { ok: boolean; error?: string }>
}
interface StatsBody {
  packages: { total: number | null }
  events: { outboxPending: number | null }
  queues: Record<string, { messages: number }>
  unknown: string[]
}

const ready = async (gw: TestGateway) => {
  const res = await gw.app.inject({ method: 'GET', url: '/api/v1/health/ready' })
  return { code: res.statusCode, body: res.json() as Ready }
}
const stats = async (gw: TestGateway, token: string) => {
  const res = await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(token) })
  return { code: res.statusCode, body: res.json() as StatsBody }
}
const metrics = (gw: TestGateway) => gw.app.inject({ method: 'GET', url: '/metrics' })

async function setup(t: Test) {
  const proxy = await tcpProxy(t, amqpUrl, 5672)
  const a = await testGateway(t, env, { bus: true, amqpUrl: `${proxy.url}?heartbeat=60` })
  const b = await testGateway(t, env, { bus: true, shared: a })
  // Only A may publish A's events: what B's clients get went through the broker from A.
  await b.relay!.stop()
  const admin = await a.user('admin')
  await waitFor(async () => (await ready(a)).body.status === 'ok', 'gateway A to reach the broker through the proxy')
  const tn = await createPackage(a, admin.token)
  const onB = await connect(t, `${await listen(t, b)}?token=${admin.token}`)
  onB.send({ op: 'subscribe', channel: `package:${tn}` })
  await onB.next(isType('subscribed'))
  return { proxy, a, admin, tn, onB }
}

for (const mode of ['stall', 'cut'] as const) {
  t.test(`broker ${mode === 'stall' ? 'stalled (accepts, never answers)' : 'cut'}: degraded, figures marked unknown, nothing lost after`, async (t) => {
    const { proxy, a, admin, tn, onB } = await setup(t)
    const before = await stats(a, admin.token)
    t.same(before.body.unknown, [], 'before: every figure read')
    t.ok(before.body.queues['delivertrack.archive'], 'before: the archive queue is reported')

    proxy[mode]()
    await waitFor(async () => (await ready(a)).body.checks.rabbitmq?.ok === false, 'readiness to see the broker gone', 30_000)
    const r = await ready(a)
    t.equal(r.code, 200, 'still ready to serve')
    t.equal(r.body.status, 'degraded')
    t.ok(r.body.checks.postgres?.ok && r.body.checks.redis?.ok, 'the other checks are fine')
    if (mode === 'stall') t.match(r.body.checks.rabbitmq?.error, /RabbitMQ.*no answer within \d+ ms/, 'says the broker did not answer in time')

    const during = await stats(a, admin.token)
    t.equal(during.code, 200, '/stats answers')
    t.same(during.body.unknown, ['queues'], 'the queue figures are marked unknown')
    t.same(during.body.queues, {}, 'and not reported')
    t.type(during.body.packages.total, 'number', 'figures from PostgreSQL are still read')
    const m = await metrics(a)
    t.equal(m.statusCode, 200, '/metrics answers')
    t.match(m.body, /^delivertrack_stat_unknown\{name="queues"\} 1$/m, 'an unknown gauge for the queues')
    t.match(m.body, /^delivertrack_stat_unknown\{name="outbox"\} 0$/m)
    t.notMatch(m.body, /^delivertrack_queue_messages\{/m, 'no queue sample')

    t.equal(await postStatus(a, admin.token, tn, { status: 'in_transit', note: `during the ${mode}` }), 200, 'a change is accepted meanwhile')

    proxy.heal()
    await waitFor(async () => (await ready(a)).body.status === 'ok', 'readiness to recover', 30_000)
    const event = await onB.next((m) => isEvent(`package:${tn}`)(m) && (m.event as { data: { note?: string } }).data.note === `during the ${mode}`, 30_000)
    t.equal((event.event as { seq: number }).seq, 2, 'the change made meanwhile reached the broker')
    await waitFor(async () => (await stats(a, admin.token)).body.events.outboxPending === 0, 'the outbox to drain')
    t.same((await stats(a, admin.token)).body.unknown, [], 'after: every figure read again')
  })
}

t.test('a gateway shuts down while the broker is stalled, without waiting for it', async (t) => {
  const { proxy, a, admin, tn } = await setup(t)
  proxy.stall()
  // Something to publish, and a probe and a queue read left hanging on the silent broker.
  t.equal(await postStatus(a, admin.token, tn, { status: 'in_transit', note: 'while stalled' }), 200)
  await waitFor(async () => (await ready(a)).body.status === 'degraded', 'readiness to see the stall', 30_000)
  t.same((await stats(a, admin.token)).body.unknown, ['queues'])
  let closed = false
  const closing = (async () => {
    await a.app.close()
    await a.bus.close()
    closed = true
  })()
  await waitFor(() => closed, 'the gateway and its bus to close', 30_000)
  await closing
  t.notOk(a.bus.connected)
  const { rows } = await a.pool.query<{ note: string | null }>("SELECT data->>'note' AS note FROM package_events WHERE published_at IS NULL AND type = 'package.status_changed'")
  t.same(rows, [{ note: 'while stalled' }], 'the unpublished event stays in the outbox')
})
