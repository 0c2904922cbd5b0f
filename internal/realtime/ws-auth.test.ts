import { generateKeyPairSync, randomUUID } from 'node:crypto'
import t from 'tap'
import { createSigner } from 'fast-jwt'
import { bearer, testGateway } from '../app/testing/gateway.js'
import { connect, createPackage, isEvent, isType, listen, postStatus, waitFor, type WsClient } from './testing/ws-client.js'

// Who may subscribe to what: the REST rules on WebSocket channels, guests on the
// redacted track: view only, and the ways to authenticate a connection.

t.test('authorization', async (t) => {
  const gw = await testGateway(t)
  const url = await listen(t, gw)
  const admin = await gw.user('admin')
  const alice = await gw.user('customer', 'Alice')
  const bob = await gw.user('customer', 'Bob')

  const subscribe = async (ws: WsClient, channel: string, id: string) => {
    ws.send({ op: 'subscribe', channel, id })
    return ws.next((m) => m.id === id)
  }
  const track = (token: string, tn: string) =>
    gw.app.inject({ method: 'POST', url: '/api/v1/me/trackings', headers: bearer(token), payload: { trackingNumber: tn } })

  t.test('a customer may subscribe only to packages they own; a tracked one is forbidden, any other not_found', async (t) => {
    const tn = await createPackage(gw, admin.token)
    const ws = await connect(t, `${url}?token=${alice.token}`)
    t.match(await subscribe(ws, `package:${tn}`, 'before'), { type: 'error', code: 'not_found', id: 'before' })
    t.equal((await track(bob.token, tn)).statusCode, 201, 'on someone else\'s list does not help')
    t.match(await subscribe(ws, `package:${tn}`, 'bobs'), { type: 'error', code: 'not_found', id: 'bobs' })
    t.equal((await track(alice.token, tn)).statusCode, 201)
    t.match(await subscribe(ws, `package:${tn}`, 'tracked'), { type: 'error', code: 'forbidden', id: 'tracked' }, 'on her list: the public view only (track:)')
    const owned = await gw.app.inject({ method: 'PATCH', url: `/api/v1/packages/${tn}`, headers: bearer(admin.token), payload: { customerId: alice.id } })
    t.equal(owned.statusCode, 200)
    t.same(await subscribe(ws, `package:${tn}`, 'after'), { type: 'subscribed', channel: `package:${tn}`, seq: 2, id: 'after' })
    await postStatus(gw, admin.token, tn, { status: 'info_received' })
    t.equal((await ws.next(isEvent(`package:${tn}`))).channel, `package:${tn}`)
  })

  t.test('guests: track: only, and it carries no personal data', async (t) => {
    const tn = await createPackage(gw, admin.token, {
      description: 'Birthday present for Bobby',
      sender: { name: 'Sally Sendername', address: '1 Secretsender Lane, Springfield' },
      recipient: { name: 'Rick Recipientname', email: 'rick.recipient@example.com', phone: '+4915112345678', address: '2 Hiddenrecipient Road, Berlin' },
      origin: { lat: 48.137154, lng: 11.576124, address: 'Warehouse Originstrasse 5' },
    })
    const guest = await connect(t, url)
    const channel = `track:${tn}`
    t.match(await subscribe(guest, `package:${tn}`, 'p'), { type: 'error', code: 'forbidden', id: 'p' })
    t.match(await subscribe(guest, 'all', 'a'), { type: 'error', code: 'forbidden', id: 'a' })
    t.match(await subscribe(guest, `user:${alice.id}`, 'u'), { type: 'error', code: 'forbidden', id: 'u' })
    t.match(await subscribe(guest, 'track:DT00000000ZZZZ', 'nf'), { type: 'error', code: 'not_found', id: 'nf' })
    t.same(await subscribe(guest, channel, 't'), { type: 'subscribed', channel, seq: 1, id: 't' })
    const full = await connect(t, `${url}?token=${admin.token}`)
    await subscribe(full, `package:${tn}`, 'full')

    const driver = await gw.user('driver', 'Dora Drivername')
    t.equal(await postStatus(gw, admin.token, tn, { status: 'in_transit', note: 'Left the hub', location: { lat: 52.517037, lng: 13.388860, city: 'Berlin' } }), 200)
    const patch = await gw.app.inject({
      method: 'PATCH',
      url: `/api/v1/packages/${tn}`,
      headers: bearer(admin.token),
      payload: { recipient: { name: 'Rick Recipientname', email: 'rick.new@example.com', address: '3 Newsecret Street' } },
    })
    t.equal(patch.statusCode, 200, patch.body)
    const offer = await gw.app.inject({ method: 'POST', url: `/api/v1/packages/${tn}/assignment`, headers: bearer(admin.token), payload: { driverId: driver.id } })
    t.equal(offer.statusCode, 201, offer.body)
    const events = await guest.collect(3, isEvent(channel))
    await full.collect(3, isEvent(`package:${tn}`))
    // Replayed history goes through the same redaction.
    const late = await connect(t, url)
    late.send({ op: 'subscribe', channel, since: 0 })
    await late.collect(4, isEvent(channel))

    // A live location (no seq) goes to package: but never to track:.
    const now = new Date().toISOString()
    gw.realtime.receive({ id: randomUUID(), type: 'package.location', trackingNumber: tn, occurredAt: now, recordedAt: now, data: { lat: 52.517037, lng: 13.38886, recordedAt: now } })
    t.equal(await postStatus(gw, admin.token, tn, { status: 'out_for_delivery' }), 200)
    await guest.collect(4, isEvent(channel))
    const fullTypes = (await full.collect(5, isEvent(`package:${tn}`))).map((m) => (m.event as { type: string }).type)
    t.same(fullTypes.slice(-2), ['package.location', 'package.status_changed'], 'package: gets the live location')
    t.same(guest.messages.filter(isEvent(channel)).map((m) => (m.event as { type: string }).type), ['package.status_changed', 'package.updated', 'package.assigned', 'package.status_changed'], 'track: does not')

    t.same((events[0]!.event as { data: unknown }).data, { status: 'in_transit', previousStatus: 'pending', note: 'Left the hub', city: 'Berlin' })
    const secrets = ['Sally', 'Sendername', 'Secretsender', 'Rick', 'Recipientname', 'rick.recipient@example.com', 'rick.new@example.com', '+4915112345678', 'Hiddenrecipient', 'Newsecret', 'Bobby', 'Originstrasse', '52.517037', '13.38886', '48.137154', '11.576124', driver.id, 'Dora']
    for (const [who, frames] of [['live', guest.frames], ['history', late.frames]] as const) {
      const wire = frames.join('\n')
      t.same(secrets.filter((s) => wire.includes(s)), [], `no personal data or coordinates on track: (${who})`)
      t.ok(wire.includes('Berlin'), `the city is public (${who})`)
    }
    const fullWire = full.frames.join('\n')
    t.ok(fullWire.includes('52.517037') && fullWire.includes('rick.new@example.com'), 'package: subscribers with access see the details')
  })

  t.test('user:<id> carries every package on the user\'s list and nobody else\'s', async (t) => {
    const carol = await gw.user('customer', 'Carol')
    const [mine1, mine2, notMine] = await Promise.all([createPackage(gw, admin.token), createPackage(gw, admin.token), createPackage(gw, admin.token)])
    await track(carol.token, mine1)
    await track(carol.token, mine2)
    await track(bob.token, notMine)
    const ws = await connect(t, `${url}?token=${carol.token}`)
    const channel = `user:${carol.id}`
    t.match(await subscribe(ws, `user:${bob.id}`, 'other'), { type: 'error', code: 'forbidden', id: 'other' })
    t.same(await subscribe(ws, channel.toUpperCase().replace('USER:', 'user:'), 'own'), { type: 'subscribed', channel, id: 'own' }, 'user ids are case-insensitive')
    await postStatus(gw, admin.token, mine1, { status: 'info_received' })
    await postStatus(gw, admin.token, notMine, { status: 'info_received' })
    await postStatus(gw, admin.token, mine2, { status: 'in_transit' })
    await postStatus(gw, admin.token, mine1, { status: 'in_transit' })
    await ws.collect(3, isEvent(channel))
    const got = ws.messages.filter(isEvent(channel)).map((m) => m.event as { trackingNumber: string; seq: number })
    t.same(got.map((e) => `${e.trackingNumber === mine1 ? 'mine1' : e.trackingNumber === mine2 ? 'mine2' : 'OTHER'}#${e.seq}`), ['mine1#2', 'mine2#2', 'mine1#3'])
  })

  t.test('all is the firehose of admins and operators only', async (t) => {
    const operator = await gw.user('operator')
    const driver = await gw.user('driver')
    const service = await gw.serviceToken()
    for (const [who, token] of [['customer', alice.token], ['driver', driver.token], ['service', service]] as const) {
      const ws = await connect(t, `${url}?token=${token}`)
      t.match(await subscribe(ws, 'all', who), { type: 'error', code: 'forbidden', id: who }, `${who} may not`)
    }
    const tn = await createPackage(gw, admin.token)
    const watchers = []
    for (const [who, token] of [['admin', admin.token], ['operator', operator.token]] as const) {
      const ws = await connect(t, `${url}?token=${token}`)
      t.same(await subscribe(ws, 'all', who), { type: 'subscribed', channel: 'all', id: who }, `${who} may`)
      watchers.push(ws)
    }
    await postStatus(gw, admin.token, tn, { status: 'in_transit' })
    for (const ws of watchers) t.equal((await ws.next(isEvent('all'))).channel, 'all')
  })

  t.test('a driver sees assigned packages only', async (t) => {
    const driver = await gw.user('driver')
    const assigned = await createPackage(gw, admin.token, { driverId: driver.id })
    const other = await createPackage(gw, admin.token)
    const ws = await connect(t, `${url}?token=${driver.token}`)
    t.match(await subscribe(ws, `package:${assigned}`, 'a'), { type: 'subscribed' })
    t.match(await subscribe(ws, `package:${other}`, 'o'), { type: 'error', code: 'not_found' })
  })

  t.test('auth by first message', async (t) => {
    const tn = await createPackage(gw, admin.token)
    const ws = await connect(t, url)
    t.match(await subscribe(ws, `package:${tn}`, 'guest'), { code: 'forbidden' }, 'a guest before authenticating')
    ws.send({ op: 'auth', token: 'not.a.token', id: 'bad' })
    t.match(await ws.next((m) => m.id === 'bad'), { type: 'error', code: 'unauthorized', id: 'bad' })
    t.match(await subscribe(ws, `package:${tn}`, 'still-guest'), { code: 'forbidden' }, 'a bad token leaves a guest')
    ws.send({ op: 'auth', id: 'none' })
    t.match(await ws.next((m) => m.id === 'none'), { type: 'error', code: 'validation_failed' })
    ws.send({ op: 'auth', token: admin.token, id: 'good' })
    t.match(await ws.next((m) => m.id === 'good'), { type: 'authenticated', id: 'good' })
    t.match(await subscribe(ws, `package:${tn}`, 'member'), { type: 'subscribed', channel: `package:${tn}` })
  })

  t.test('a bad token in the query: error unauthorized, then closed with 1008', async (t) => {
    const ws = await connect(t, `${url}?token=bogus`)
    t.match(await ws.next(), { type: 'error', code: 'unauthorized' })
    t.equal((await ws.closed).code, 1008)
  })
})

t.test('external tokens: messages sent while the token is checked are not lost', async (t) => {
  // An identity provider's token costs a database round trip (the local user is
  // upserted); the first subscribe is typically sent during it.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const gw = await testGateway(t, { JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() })
  const url = await listen(t, gw)
  const sign = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'RS256', expiresIn: 300_000 })
  const admin = await gw.user('admin')
  const tn = await createPackage(gw, admin.token)
  for (let i = 0; i < 5; i++) {
    const token = sign({ sub: `idp|${randomUUID()}`, email: `ops${i}@example.com`, role: 'operator' })
    const ws = await connect(t, `${url}?token=${token}`)
    ws.send({ op: 'subscribe', channel: `package:${tn}`, id: `first-${i}` })
    t.match(await ws.next(isType('subscribed'), 5_000), { channel: `package:${tn}`, id: `first-${i}` }, `attempt ${i}: the first message is answered`)
    ws.close()
  }
  await postStatus(gw, admin.token, tn, { status: 'in_transit' })

  // Sockets closed while their token is being checked are cleaned up too.
  for (let i = 0; i < 5; i++) {
    const ws = await connect(t, `${url}?token=${sign({ sub: `idp|${randomUUID()}`, role: 'customer' })}`)
    ws.socket.terminate()
  }
  await waitFor(() => gw.realtime.connections.size === 0, 'every closed connection to be released')
  t.equal(gw.realtime.stats().connections, 0)
})
