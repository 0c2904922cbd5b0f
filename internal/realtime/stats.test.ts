import t from 'tap'
import { bearer, testGateway, type TestGateway } from '../app/testing/gateway.js'
import { connect, createPackage, isType, listen, outboxPending, postStatus, waitFor } from './testing/ws-client.js'

// /api/v1/stats and /metrics describe the real-time side as it is.

interface Stats {
  websocket: { connections: number; subscriptions: number }
  events: { published: number; outboxPending: number }
  queues: Record<string, { messages: number; consumers: number }>
}

const stats = async (gw: TestGateway, token: string) => {
  const res = await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(token) })
  if (res.statusCode !== 200) throw new Error(`stats: ${res.statusCode} ${res.body}`)
  return res.json() as Stats
}

t.test('stats and metrics', async (t) => {
  const gw = await testGateway(t, {}, { bus: true })
  const url = await listen(t, gw)
  const admin = await gw.user('admin')
  const operator = await gw.user('operator')
  const customer = await gw.user('customer')
  const tn = await createPackage(gw, admin.token)

  const first = await connect(t, `${url}?token=${admin.token}`)
  first.send({ op: 'subscribe', channel: `package:${tn}` })
  first.send({ op: 'subscribe', channel: 'all' })
  await first.collect(2, isType('subscribed'))
  const guest = await connect(t, url)
  guest.send({ op: 'subscribe', channel: `track:${tn}` })
  await guest.next(isType('subscribed'))
  const idle = await connect(t, url)
  idle.send({ op: 'ping' })
  await idle.next(isType('pong'))

  // Compared once the relay is done, so the two readings cannot straddle a publication.
  await waitFor(async () => (await outboxPending(gw)) === 0, 'the outbox to drain')
  const s = await stats(gw, admin.token)
  t.same(s.websocket, { connections: 3, subscriptions: 3 }, 'every open client and every channel subscription')
  t.equal(s.events.outboxPending, 0, 'nothing pending once the relay has published')
  t.equal((await stats(gw, operator.token)).websocket.connections, 3, 'operators may read stats')
  t.equal((await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(customer.token) })).statusCode, 403)
  t.equal((await gw.app.inject({ method: 'GET', url: '/api/v1/stats' })).statusCode, 401)

  first.send({ op: 'unsubscribe', channel: 'all' })
  await first.next(isType('unsubscribed'))
  t.same((await stats(gw, admin.token)).websocket, { connections: 3, subscriptions: 2 }, 'an unsubscribe counts at once')
  guest.close()
  await waitFor(async () => (await stats(gw, admin.token)).websocket.connections === 2, 'the closed client to leave the count')
  t.same((await stats(gw, admin.token)).websocket, { connections: 2, subscriptions: 1 })

  // With the relay stopped, new events stay pending and the figure shows them.
  const published = (await stats(gw, admin.token)).events.published
  t.ok(published >= 1, `published counts the relay's work (${published})`)
  await gw.relay!.stop()
  for (let i = 0; i < 3; i++) await postStatus(gw, admin.token, tn, { status: 'in_transit' })
  t.equal((await stats(gw, admin.token)).events.outboxPending, 3)

  const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.headers['content-type'], /^text\/plain/)
  t.match(metrics.body, /^# TYPE delivertrack_websocket_connections gauge$/m)
  t.match(metrics.body, /^delivertrack_websocket_connections 2$/m)
  t.match(metrics.body, /^delivertrack_websocket_subscriptions 1$/m)
  t.match(metrics.body, /^delivertrack_outbox_pending 3$/m)
})
