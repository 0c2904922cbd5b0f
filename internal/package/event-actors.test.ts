import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { connect, isEvent, listen, type WsClient } from '../realtime/testing/ws-client.js'
import { api } from './fixtures.test.js'

// Every event names who caused it; staff (admin, operator, service clients) see
// that, customers, drivers and guests never do, over HTTP or WebSocket.

async function subscribed(t: Parameters<typeof connect>[0], url: string, channel: string, token?: string): Promise<WsClient> {
  const ws = await connect(t, token ? `${url}?token=${token}` : url)
  ws.send({ op: 'subscribe', channel })
  const reply = await ws.next((m) => m.type === 'subscribed' || m.type === 'error')
  if (reply.type !== 'subscribed') throw new Error(`subscribe ${channel}: ${JSON.stringify(reply)}`)
  return ws
}

t.test('event actors', async (t) => {
  const gw = await testGateway(t)
  const { create, status, events, assign, call } = api(gw)
  const admin = await gw.user('admin', 'Ada Admin')
  const operator = await gw.user('operator')
  const owner = await gw.user('customer')
  const driver = await gw.user('driver', 'Dana')
  const service = await gw.serviceToken()
  const url = await listen(t, gw)

  t.test("an admin's and a service client's changes name them; the log says who", async (t) => {
    const pkg = await create(admin.token, { customerId: owner.id })
    await status(admin.token, pkg.trackingNumber, 'in_transit')
    await status(service, pkg.trackingNumber, 'out_for_delivery')
    const log = await events(operator.token, pkg.trackingNumber)
    t.same(log[0]!.actor, { type: 'user', id: admin.id, role: 'admin', name: 'Ada Admin' }, 'created by the admin')
    t.same(log[1]!.actor, { type: 'user', id: admin.id, role: 'admin', name: 'Ada Admin' }, "the admin's status change")
    t.match(log[2]!.actor, { type: 'service', role: 'service', id: String }, "the service client's status change")
  })

  t.test('the owner reads the log without actors; an operator with them', async (t) => {
    const pkg = await create(admin.token, { customerId: owner.id })
    await status(operator.token, pkg.trackingNumber, 'in_transit')
    const mine = await events(owner.token, pkg.trackingNumber)
    t.equal(mine.length, 2)
    t.ok(mine.every((e) => !('actor' in e)), 'a customer never sees who caused an event')
    t.ok(mine.every((e) => !('requestId' in e)), 'nor by which request')
    const staff = await events(operator.token, pkg.trackingNumber)
    t.same(staff.map((e) => (e.actor as { role: string }).role), ['admin', 'operator'])
    t.ok(staff.every((e) => typeof (e as { requestId?: unknown }).requestId === 'string'), 'staff see the request behind each')
  })

  t.test("a driver's answer names the driver; the driver reads no actors", async (t) => {
    const pkg = await create(admin.token)
    await assign(operator.token, pkg.trackingNumber, driver.id)
    const accepted = await call('POST', `/packages/${pkg.trackingNumber}/assignment/accept`, { token: driver.token })
    t.equal(accepted.statusCode, 200)
    const log = await events(admin.token, pkg.trackingNumber)
    t.same(log.map((e) => [e.type, (e.actor as { role: string }).role]), [['package.created', 'admin'], ['package.assigned', 'operator'], ['package.assignment_accepted', 'driver']])
    t.same(log[2]!.actor, { type: 'user', id: driver.id, role: 'driver', name: 'Dana' })
    t.ok((await events(driver.token, pkg.trackingNumber)).every((e) => !('actor' in e)), 'nor does the driver')
  })

  t.test('events written before actors were kept have none, and still validate', async (t) => {
    const pkg = await create(admin.token)
    await gw.pool.query('UPDATE package_events SET actor = NULL WHERE tracking_number = $1', [pkg.trackingNumber])
    const log = await events(admin.token, pkg.trackingNumber)
    t.equal(log.length, 1)
    t.notOk('actor' in log[0]!, 'no actor, no null')
  })

  t.test('sockets: the owner on package: and a guest on track: get no actor; an admin on all does', async (t) => {
    const pkg = await create(admin.token, { customerId: owner.id })
    const tn = pkg.trackingNumber
    const ownerWs = await subscribed(t, url, `package:${tn}`, owner.token)
    const operatorWs = await subscribed(t, url, `package:${tn}`, operator.token)
    const userWs = await subscribed(t, url, `user:${owner.id}`, owner.token)
    const guestWs = await subscribed(t, url, `track:${tn}`)
    const allWs = await subscribed(t, url, 'all', admin.token)
    await status(admin.token, tn, { status: 'in_transit', note: 'left the depot' })

    const byOwner = await ownerWs.next(isEvent(`package:${tn}`))
    const byOperator = await operatorWs.next(isEvent(`package:${tn}`))
    const onUser = await userWs.next(isEvent(`user:${owner.id}`))
    const byGuest = await guestWs.next(isEvent(`track:${tn}`))
    const onAll = await allWs.next((m) => isEvent('all')(m) && (m.event as { trackingNumber: string; seq: number }).trackingNumber === tn && (m.event as { seq: number }).seq === 2)

    const actor = { type: 'user', id: admin.id, role: 'admin', name: 'Ada Admin' }
    t.match(byOwner.event, { type: 'package.status_changed', seq: 2, data: { note: 'left the depot' } })
    t.notOk('actor' in (byOwner.event as object), 'the owner on package: gets no actor')
    t.same((byOperator.event as { actor: unknown }).actor, actor, 'an operator on the same channel does')
    t.notOk('actor' in (onUser.event as object), 'user: channels carry none')
    t.notOk('actor' in (byGuest.event as object), 'track: carries none')
    t.notOk('requestId' in (byOwner.event as object) || 'requestId' in (onUser.event as object) || 'requestId' in (byGuest.event as object), 'nor do they carry the request id')
    t.type((byOperator.event as { requestId: unknown }).requestId, 'string', 'staff get the request id with the actor')
    t.same((onAll.event as { actor: unknown }).actor, actor, 'the staff firehose carries it')
  })

  t.test('a gap filled from the log keeps the owner without actors', async (t) => {
    const pkg = await create(admin.token, { customerId: owner.id })
    await status(admin.token, pkg.trackingNumber, 'in_transit')
    const ws = await connect(t, `${url}?token=${owner.token}`)
    ws.send({ op: 'subscribe', channel: `package:${pkg.trackingNumber}`, since: 0 })
    const history = await ws.collect(2, isEvent(`package:${pkg.trackingNumber}`))
    t.same(history.map((m) => (m.event as { seq: number }).seq), [1, 2])
    t.ok(history.every((m) => !('actor' in (m.event as object))), 'history since 0: no actor either')
    const staffWs = await connect(t, `${url}?token=${operator.token}`)
    staffWs.send({ op: 'subscribe', channel: `package:${pkg.trackingNumber}`, since: 0 })
    const staffHistory = await staffWs.collect(2, isEvent(`package:${pkg.trackingNumber}`))
    t.ok(staffHistory.every((m) => (m.event as { actor?: { role: string } }).actor?.role === 'admin'), 'an operator gets the history with actors')
  })
})
