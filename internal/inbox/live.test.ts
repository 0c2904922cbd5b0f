import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { Principal } from '../auth/domain.js'
import { buildWorker } from '../app/worker.js'
import { testGateway, type TestGateway } from '../app/testing/gateway.js'
import { silentLog, startWorker, workerGateway } from '../app/testing/worker.js'
import { eventually, publishRaw, testVhost } from '../platform/testing/broker.js'
import { connect, isEvent, listen, type WsClient } from '../realtime/testing/ws-client.js'

const admin: Principal = { id: randomUUID(), role: 'admin', kind: 'user' }
const amqpUrl = await testVhost(t)

const urls = new Map<TestGateway, string>()

/** A socket of the user, subscribed to their own channel. */
async function userSocket(gw: TestGateway, user: { id: string; token: string }): Promise<WsClient> {
  if (!urls.has(gw)) urls.set(gw, await listen(t, gw))
  const ws = await connect(t, `${urls.get(gw)!}?token=${user.token}`)
  ws.send({ op: 'subscribe', channel: `user:${user.id}` })
  const reply = await ws.next((m) => m.type === 'subscribed' || m.type === 'error')
  if (reply.type !== 'subscribed') throw new Error(JSON.stringify(reply))
  return ws
}

const notices = (ws: WsClient) => ws.messages.filter((m) => isEvent(m.channel as string)(m) && (m.event as { type: string }).type === 'notification.created')

async function countFor(gw: TestGateway, userId: string): Promise<number> {
  const { rows } = await gw.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE user_id = $1', [userId])
  return rows[0]!.n
}

t.test('RabbitMQ: a worker notifies, and the owner’s user: socket hears notification.created live', async (t) => {
  const gw = await workerGateway(t, amqpUrl)
  await startWorker(t, { iso: gw, amqpUrl, roles: ['inbox'] })
  const owner = await gw.user('customer')
  const stranger = await gw.user('customer')
  const ownerWs = await userSocket(gw, owner)
  const strangerWs = await userSocket(gw, stranger)
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Olga' }, customerId: owner.id })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'in_transit' })

  const msg = await ownerWs.next((m) => m.type === 'event' && (m.event as { type: string }).type === 'notification.created')
  t.equal(msg.channel, `user:${owner.id}`)
  const event = msg.event as { seq?: number; data: { userId: string; notification: Record<string, unknown> } }
  t.equal(event.seq, undefined, 'live-only: no seq')
  t.match(event.data, { userId: owner.id, notification: { type: 'package.status_changed', title: `${pkg.trackingNumber} is on its way`, trackingNumber: pkg.trackingNumber, read: false } })
  const listed = await gw.app.inject({ url: '/api/v1/me/notifications', headers: { authorization: `Bearer ${owner.token}` } })
  t.same(listed.json().items[0], event.data.notification, 'the live notice is the list item')
  t.same(notices(strangerWs), [], 'nobody else’s socket hears of it')
})

t.test('RabbitMQ: a worker that stops mid-stream loses and doubles nothing once it restarts', async (t) => {
  const gw = await workerGateway(t, amqpUrl)
  const owner = await gw.user('customer')
  const first = await startWorker(t, { iso: gw, amqpUrl, roles: ['inbox'] })
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Olga' }, customerId: owner.id })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'in_transit' })
  await eventually(async () => (await countFor(gw, owner.id)) === 1, 'the first notification')
  await first.stop()

  // While no worker runs, events wait in the durable queue.
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'out_for_delivery' })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'delivered' })
  const { rows } = await gw.pool.query<{ id: string; type: string; seq: number; occurred_at: Date; recorded_at: Date; data: object }>(
    "SELECT * FROM package_events WHERE tracking_number = $1 AND type = 'package.status_changed' ORDER BY seq",
    [pkg.trackingNumber],
  )
  // The first event again, as a broker redelivers what a killed worker never acknowledged.
  const e = rows[0]!
  await publishRaw(amqpUrl, e.type, { id: e.id, type: e.type, trackingNumber: pkg.trackingNumber, seq: Number(e.seq), occurredAt: e.occurred_at, recordedAt: e.recorded_at, data: e.data }, e.id)

  const second = await startWorker(t, { iso: gw, amqpUrl, roles: ['inbox'] })
  await eventually(async () => (await countFor(gw, owner.id)) === 3, 'the notifications of the waiting events')
  await eventually(() => second.worker.inbox!.counters.events === 3, 'the redelivered event handled too')
  t.equal(await countFor(gw, owner.id), 3, 'one per status change: none lost, none doubled')
  t.equal(second.worker.inbox!.counters.created, 2, 'the redelivery created nothing')
})

t.test('embedded: the in-process role notifies, and the socket hears it through the in-process bus', async (t) => {
  const gw = await testGateway(t, { WORKER_QUEUES: 'inbox' })
  const worker = buildWorker({ config: gw.config, pool: gw.pool, bus: gw.bus, roles: ['inbox'], log: silentLog })
  await worker.start()
  t.teardown(() => worker.stop())
  const tracker = await gw.user('customer')
  const ws = await userSocket(gw, tracker)
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Ann' } })
  await gw.packages.addTracking({ id: tracker.id, role: 'customer', kind: 'user' }, { trackingNumber: pkg.trackingNumber })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'in_transit', location: { lat: 1, lng: 2, city: 'Lyon' } })
  const msg = await ws.next((m) => m.type === 'event' && (m.event as { type: string }).type === 'notification.created')
  t.match(msg, { channel: `user:${tracker.id}`, event: { data: { userId: tracker.id, notification: { body: 'Your package is on its way in Lyon.' } } } })
})
