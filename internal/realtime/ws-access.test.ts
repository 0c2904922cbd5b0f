import { randomUUID } from 'node:crypto'
import t from 'tap'
import { bearer, testGateway, type TestGateway } from '../app/testing/gateway.js'
import { connect, createPackage, isEvent, isType, listen, postStatus, type WsClient } from './testing/ws-client.js'

// Who hears what on sockets (F1, F2) and that access is checked again while a
// socket stays open (F4): a removed tracking, a reassigned driver, a deleted or
// demoted account stop receiving at once, on this gateway and on another one.

const call = (gw: TestGateway, method: 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object, headers: Record<string, string> = {}) =>
  gw.app.inject({ method, url: `/api/v1${url}`, headers: { ...bearer(token), ...headers }, ...(payload ? { payload } : {}) })

/** Offers the package to another driver in place of the one it was created for (version 1). */
const reassign = (gw: TestGateway, tn: string, token: string, driverId: string) =>
  call(gw, 'POST', `/packages/${tn}/assignment`, token, { driverId, replace: true }, { 'if-match': '"1"' })

/** A client subscribed to the channel (resolves with the `subscribed` reply). */
async function subscribed(t: { teardown(fn: () => unknown): void }, url: string, token: string, channel: string): Promise<WsClient> {
  const ws = await connect(t, `${url}?token=${token}`)
  ws.send({ op: 'subscribe', channel })
  const reply = await ws.next((m) => m.type === 'subscribed' || m.type === 'error')
  if (reply.type !== 'subscribed') throw new Error(`subscribe ${channel}: ${JSON.stringify(reply)}`)
  return ws
}

/** Everything the server sent this client before it answered a ping sent now. */
async function drained(ws: WsClient): Promise<void> {
  const id = randomUUID()
  ws.send({ op: 'ping', id })
  await ws.next((m) => m.type === 'pong' && m.id === id)
}

const eventsOf = (ws: WsClient, channel: string, tn: string) =>
  ws.messages.filter((m) => isEvent(channel)(m) && (m.event as { trackingNumber: string }).trackingNumber === tn).map((m) => m.event as { type: string; data: Record<string, unknown> })

t.test('access on sockets, one gateway', async (t) => {
  const gw = await testGateway(t)
  const url = await listen(t, gw)
  const admin = await gw.user('admin')

  /** Makes an update, waits until `observer` has it and user channels are routed, then until `ws` has everything sent before. */
  const updateAndSettle = async (tn: string, observer: WsClient, ws: WsClient, note: string) => {
    t.equal(await postStatus(gw, admin.token, tn, { status: 'in_transit', note }), 200)
    await observer.next((m) => m.type === 'event' && (m.event as { data: { note?: string } }).data.note === note)
    await gw.realtime.router.settled()
    await drained(ws)
  }

  t.test("a tracker's user channel carries the public view; package:<tn> is refused (F1)", async (t) => {
    const owner = await gw.user('customer')
    const tracker = await gw.user('customer')
    const tn = await createPackage(gw, admin.token, { customerId: owner.id, recipient: { name: 'Olga Owner', address: '5 Home Lane', phone: '+155' } })
    t.equal((await call(gw, 'POST', '/me/trackings', tracker.token, { trackingNumber: tn })).statusCode, 201)
    const trackerWs = await subscribed(t, url, tracker.token, `user:${tracker.id}`)
    const ownerWs = await subscribed(t, url, owner.token, `user:${owner.id}`)
    trackerWs.send({ op: 'subscribe', channel: `package:${tn}`, id: 'pkg' })
    t.match(await trackerWs.next((m) => m.id === 'pkg'), { type: 'error', code: 'forbidden', message: /track:/ }, 'package: is refused, track: suggested')
    t.match(await subscribed(t, url, tracker.token, `track:${tn}`), {}, 'track:<tn> is theirs')
    t.equal((await subscribed(t, url, owner.token, `package:${tn}`)).messages[0]!.type, 'subscribed', 'the owner may subscribe to package:')

    t.equal(await postStatus(gw, admin.token, tn, { status: 'in_transit', note: 'left the depot', location: { lat: 52.5, lng: 13.4, city: 'Berlin' } }), 200)
    const now = new Date().toISOString()
    gw.realtime.receive({ id: randomUUID(), type: 'package.location', trackingNumber: tn, occurredAt: now, recordedAt: now, data: { lat: 52.51, lng: 13.41, recordedAt: now } })
    await t.resolves(ownerWs.collect(2, isEvent(`user:${owner.id}`)), 'the owner gets both, in full')
    t.match(eventsOf(ownerWs, `user:${owner.id}`, tn)[0], { type: 'package.status_changed', data: { location: { lat: 52.5 } } })
    await gw.realtime.router.settled()
    await drained(trackerWs)
    const seen = eventsOf(trackerWs, `user:${tracker.id}`, tn)
    t.same(seen.map((e) => e.type), ['package.status_changed'], 'the tracker: no live location')
    t.same(seen[0]!.data, { status: 'in_transit', previousStatus: 'pending', note: 'left the depot', city: 'Berlin' }, 'status facts and the city only')
    t.notMatch(trackerWs.frames.join('\n'), /Olga|Home Lane|\+155|52\.5/, 'no names, addresses, phones or coordinates on the wire')
  })

  t.test('a driver who tracks an unassigned number gets no full package on sockets (F2)', async (t) => {
    const driver = await gw.user('driver')
    const tn = await createPackage(gw, admin.token, { recipient: { name: 'Rita Recipient', phone: '+177' } })
    t.equal((await call(gw, 'POST', '/me/trackings', driver.token, { trackingNumber: tn })).statusCode, 201)
    const ws = await subscribed(t, url, driver.token, `user:${driver.id}`)
    ws.send({ op: 'subscribe', channel: `package:${tn}`, id: 'pkg' })
    t.match(await ws.next((m) => m.id === 'pkg'), { type: 'error', code: 'forbidden' })
    const observer = await subscribed(t, url, admin.token, `package:${tn}`)
    await call(gw, 'PATCH', `/packages/${tn}`, admin.token, { recipient: { name: 'Rita Recipient', phone: '+188' } })
    await updateAndSettle(tn, observer, ws, 'after the patch')
    t.same(eventsOf(ws, `user:${driver.id}`, tn).map((e) => e.type), ['package.updated', 'package.status_changed'])
    t.notMatch(ws.frames.join('\n'), /Rita|\+177|\+188/, 'the patch reached them without its contents')
  })

  t.test('a removed tracking stops the user channel at once (F4)', async (t) => {
    const customer = await gw.user('customer')
    const tn = await createPackage(gw, admin.token)
    await call(gw, 'POST', '/me/trackings', customer.token, { trackingNumber: tn })
    const ws = await subscribed(t, url, customer.token, `user:${customer.id}`)
    // Whatever else the list lets them open: a tracker's package: subscription must not outlive the tracking.
    ws.send({ op: 'subscribe', channel: `package:${tn}`, id: 'pkg' })
    await ws.next((m) => m.id === 'pkg')
    const observer = await subscribed(t, url, admin.token, `package:${tn}`)
    await updateAndSettle(tn, observer, ws, 'while tracked')
    t.equal(eventsOf(ws, `user:${customer.id}`, tn).length, 1, 'heard while on the list')
    t.equal((await call(gw, 'DELETE', `/me/trackings/${tn}`, customer.token)).statusCode, 204)
    const before = ws.messages.filter(isType('event')).length
    await updateAndSettle(tn, observer, ws, 'after removal')
    t.equal(ws.messages.filter(isType('event')).length, before, 'nothing after removal, on any channel')
  })

  t.test('a reassigned driver stops receiving; the new one may subscribe (F4)', async (t) => {
    const [first, second] = [await gw.user('driver'), await gw.user('driver')]
    const tn = await createPackage(gw, admin.token, { driverId: first.id })
    const ws = await subscribed(t, url, first.token, `package:${tn}`)
    const observer = await subscribed(t, url, admin.token, `package:${tn}`)
    t.equal((await reassign(gw, tn, admin.token, second.id)).statusCode, 201)
    t.match(await ws.next(isType('unsubscribed')), { channel: `package:${tn}`, code: 'not_found' }, 'told the subscription ended')
    await updateAndSettle(tn, observer, ws, 'after reassignment')
    t.same(eventsOf(ws, `package:${tn}`, tn), [], 'not even the assignment itself')
    const next = await subscribed(t, url, second.token, `package:${tn}`)
    t.ok(next, 'the new driver subscribes')
    ws.send({ op: 'subscribe', channel: `package:${tn}`, id: 'again' })
    t.match(await ws.next((m) => m.id === 'again'), { type: 'error', code: 'not_found' }, 'the old one cannot come back')
  })

  t.test('a deleted account stops receiving at once and cannot subscribe again (F4)', async (t) => {
    const operator = await gw.user('operator')
    const tn = await createPackage(gw, admin.token)
    const ws = await subscribed(t, url, operator.token, 'all')
    ws.send({ op: 'subscribe', channel: `track:${tn}` })
    await ws.next((m) => m.type === 'subscribed' && m.channel === `track:${tn}`)
    const observer = await subscribed(t, url, admin.token, `package:${tn}`)
    t.equal((await call(gw, 'DELETE', `/users/${operator.id}`, admin.token)).statusCode, 204)
    t.match(await ws.next(isType('unsubscribed')), { channel: 'all', code: 'unauthorized' })
    await updateAndSettle(tn, observer, ws, 'after deletion')
    t.same(ws.messages.filter(isEvent('all')), [], 'no firehose')
    t.equal(ws.messages.filter(isEvent(`track:${tn}`)).length, 1, 'a public channel, which needs no account, goes on')
    ws.send({ op: 'subscribe', channel: 'all', id: 'again' })
    t.match(await ws.next((m) => m.id === 'again'), { type: 'error', code: 'unauthorized' })
    const refresh = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: operator.email, password: operator.password } })
    t.equal(refresh.statusCode, 401, 'and cannot sign in')
  })

  t.test('a demoted operator loses the firehose and packages they do not own (F4)', async (t) => {
    const operator = await gw.user('operator')
    const tn = await createPackage(gw, admin.token)
    const ws = await subscribed(t, url, operator.token, 'all')
    ws.send({ op: 'subscribe', channel: `package:${tn}` })
    await ws.collect(2, isType('subscribed'))
    const observer = await subscribed(t, url, admin.token, `package:${tn}`)
    t.equal((await call(gw, 'PATCH', `/users/${operator.id}`, admin.token, { role: 'customer' })).json().role, 'customer')
    const ended = await ws.collect(2, isType('unsubscribed'))
    t.same(ended.map((m) => [m.channel, m.code]).sort(), [['all', 'forbidden'], [`package:${tn}`, 'not_found']])
    await updateAndSettle(tn, observer, ws, 'after demotion')
    t.same(ws.messages.filter(isType('event')), [], 'nothing more')
    ws.send({ op: 'subscribe', channel: 'all', id: 'again' })
    t.match(await ws.next((m) => m.id === 'again'), { type: 'error', code: 'forbidden' }, 'the old token does not bring the firehose back')
  })
})

t.test('access changes made through another gateway', async (t) => {
  const a = await testGateway(t, {}, { bus: true })
  const b = await testGateway(t, {}, { bus: true, shared: a })
  const urlB = await listen(t, b)
  const admin = await a.user('admin')

  t.test('a reassignment on A ends the old driver’s subscription on B', async (t) => {
    const [first, second] = [await a.user('driver'), await a.user('driver')]
    const tn = await createPackage(a, admin.token, { driverId: first.id })
    const ws = await subscribed(t, urlB, first.token, `package:${tn}`)
    t.equal((await reassign(a, tn, admin.token, second.id)).statusCode, 201)
    t.match(await ws.next(isType('unsubscribed')), { channel: `package:${tn}`, code: 'not_found' })
    t.same(ws.messages.filter(isType('event')), [])
  })

  t.test('a deletion on A ends the subscriptions on B', async (t) => {
    const operator = await a.user('operator')
    const ws = await subscribed(t, urlB, operator.token, 'all')
    t.equal((await call(a, 'DELETE', `/users/${operator.id}`, admin.token)).statusCode, 204)
    t.match(await ws.next(isType('unsubscribed')), { channel: 'all', code: 'unauthorized' })
  })

  t.test('a demotion on A ends the firehose on B', async (t) => {
    const operator = await a.user('operator')
    const ws = await subscribed(t, urlB, operator.token, 'all')
    t.equal((await call(a, 'PATCH', `/users/${operator.id}`, admin.token, { role: 'driver' })).statusCode, 200)
    t.match(await ws.next(isType('unsubscribed')), { channel: 'all', code: 'forbidden' })
  })

  t.test('a change whose notice was missed is caught by the re-check after the listener reconnects', async (t) => {
    const operator = await a.user('operator')
    const ws = await subscribed(t, urlB, operator.token, 'all')
    // Demoted without a notice, as if it had been sent while B was not listening.
    await b.pool.query(`UPDATE users SET role = 'customer' WHERE id = $1`, [operator.id])
    await b.realtime.access.recheckAll()
    t.match(await ws.next(isType('unsubscribed')), { channel: 'all', code: 'forbidden' })
  })
})
