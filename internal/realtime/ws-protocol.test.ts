import t, { type Test } from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { connect, createPackage, durableSeqs, isEvent, isType, listen, postStatus, seqOf, waitFor, type WsClient } from './testing/ws-client.js'

// The message-level protocol of GET /api/v1/ws: replies echo `id`, bad input gets
// `validation_failed` without closing, persistent garbage closes with 1008, and the
// heartbeat drops clients that stop answering pings.

t.test('protocol', async (t) => {
  const gw = await testGateway(t)
  const url = await listen(t, gw)
  const admin = await gw.user('admin')
  const tn = await createPackage(gw, admin.token)

  const pingPong = async (t: Test, ws: WsClient, id: string) => {
    ws.send({ op: 'ping', id })
    t.same(await ws.next((m) => m.type === 'pong' && m.id === id), { type: 'pong', id }, `pong ${id}`)
  }
  const nextError = (ws: WsClient) => ws.next(isType('error'))

  t.test('ping, subscribe and unsubscribe replies echo the id', async (t) => {
    const ws = await connect(t, `${url}?token=${admin.token}`)
    ws.send({ op: 'ping', id: 7 })
    t.same(await ws.next(isType('pong')), { type: 'pong', id: 7 }, 'numeric ids are echoed too')
    ws.send({ op: 'ping' })
    t.same(await ws.next(isType('pong')), { type: 'pong' }, 'no id, none echoed')
    ws.send({ op: 'subscribe', channel: `package:${tn.toLowerCase()}`, id: 's' })
    t.same(await ws.next(isType('subscribed')), { type: 'subscribed', channel: `package:${tn}`, seq: 1, id: 's' }, 'tracking numbers are normalised')
    t.equal(await postStatus(gw, admin.token, tn, { status: 'info_received' }), 200)
    t.equal(seqOf(await ws.next(isEvent(`package:${tn}`))), 2)
    ws.send({ op: 'unsubscribe', channel: `package:${tn}`, id: 'u' })
    t.same(await ws.next(isType('unsubscribed')), { type: 'unsubscribed', channel: `package:${tn}`, id: 'u' })
    t.equal(await postStatus(gw, admin.token, tn, { status: 'in_transit' }), 200)
    await pingPong(t, ws, 'after-unsubscribe')
    t.equal(ws.messages.filter(isEvent(`package:${tn}`)).length, 1, 'no event after unsubscribing')
  })

  t.test('subscribing twice to a channel is one subscription', async (t) => {
    const ws = await connect(t, `${url}?token=${admin.token}`)
    const channel = `package:${tn}`
    ws.send({ op: 'subscribe', channel, id: 1 })
    ws.send({ op: 'subscribe', channel, id: 2 })
    const second = await ws.next((m) => m.type === 'subscribed' && m.id === 2)
    t.equal(gw.realtime.hub.subscriptions, 1)
    await postStatus(gw, admin.token, tn, { status: 'in_transit', note: 'once' })
    await ws.next(isEvent(channel))
    await pingPong(t, ws, 'settled')
    t.same(durableSeqs(ws, channel), [(second.seq as number) + 1], 'each event once')
  })

  t.test('bad messages get validation_failed and the connection stays usable', async (t) => {
    const ws = await connect(t, `${url}?token=${admin.token}`)

    ws.socket.send('{"op": "ping"')
    const badJson = await nextError(ws)
    t.equal(badJson.code, 'validation_failed', 'invalid JSON')
    t.notOk('id' in badJson, 'no id can be read from invalid JSON')
    await pingPong(t, ws, 'p1')

    ws.socket.send('[1, 2]')
    t.equal((await nextError(ws)).code, 'validation_failed', 'JSON that is not an object')

    ws.send({ op: 'dance', id: 'x1' })
    t.match(await nextError(ws), { code: 'validation_failed', id: 'x1' }, 'unknown op, id echoed')

    ws.send({ id: 'x2' })
    t.match(await nextError(ws), { code: 'validation_failed', id: 'x2' }, 'missing op')

    ws.socket.send(Buffer.from(JSON.stringify({ op: 'ping', id: 'bin' })), { binary: true })
    const binary = await nextError(ws)
    t.equal(binary.code, 'validation_failed', 'binary frame')
    t.notOk(ws.messages.some((m) => m.type === 'pong' && m.id === 'bin'), 'a binary frame is not executed')

    ws.send({ op: 'ping', id: 'big', pad: 'x'.repeat(5000) })
    t.equal((await nextError(ws)).code, 'validation_failed', 'message over 4096 bytes')
    t.notOk(ws.messages.some((m) => m.type === 'pong' && m.id === 'big'), 'an oversized message is not executed')

    for (const channel of ['package:x', 'package:', 'parcel:DT0000000001', 'user:not-a-uuid', 'all:', 42, null]) {
      ws.send({ op: 'subscribe', channel, id: `c-${String(channel)}` })
      t.match(await nextError(ws), { code: 'validation_failed', id: `c-${String(channel)}` }, `channel ${JSON.stringify(channel)}`)
    }
    for (const since of [-1, 1.5, '3', true]) {
      ws.send({ op: 'subscribe', channel: `package:${tn}`, since, id: 'since' })
      t.match(await nextError(ws), { code: 'validation_failed', id: 'since' }, `since ${JSON.stringify(since)}`)
    }
    ws.send({ op: 'subscribe', channel: 'package:DT00000000ZZZZ', id: 'missing' })
    t.match(await nextError(ws), { code: 'not_found', id: 'missing' }, 'a well-formed unknown number is not found')

    await pingPong(t, ws, 'still-open')
    t.equal(ws.socket.readyState, ws.socket.OPEN)
  })

  t.test('more than 20 invalid messages close the connection with 1008; other clients are unaffected', async (t) => {
    const other = await connect(t, `${url}?token=${admin.token}`)
    other.send({ op: 'subscribe', channel: `package:${tn}` })
    const { seq } = await other.next(isType('subscribed'))

    const bad = await connect(t, `${url}?token=${admin.token}`)
    for (let i = 1; i <= 20; i++) bad.socket.send(`garbage ${i}`)
    await bad.collect(20, isType('error'))
    await pingPong(t, bad, 'after-20')
    bad.socket.send('garbage 21')
    const closed = await bad.closed
    t.equal(closed.code, 1008)

    await pingPong(t, other, 'other')
    t.equal(await postStatus(gw, admin.token, tn, { status: 'in_transit', note: 'checkpoint' }), 200)
    const ev = await other.next(isEvent(`package:${tn}`))
    t.equal(seqOf(ev), (seq as number) + 1, 'the other client still gets events')
  })

  t.test('replies come in the order of the messages, errors included', async (t) => {
    const ws = await connect(t, `${url}?token=${admin.token}`)
    ws.send({ op: 'ping', id: 1 })
    ws.socket.send('nope')
    ws.send({ op: 'ping', id: 2 })
    await ws.collect(3, () => true)
    t.same(ws.messages.slice(0, 3).map((m) => `${m.type}${m.id ?? ''}`), ['pong1', 'error', 'pong2'], 'messages of a connection are handled in order')
  })
})

// The heartbeat runs every WS_HEARTBEAT_MS; a gateway of its own with a short one.
t.test('a client that does not answer pings is terminated; one that does stays', async (t) => {
  const gw = await testGateway(t, { WS_HEARTBEAT_MS: '200' })
  const url = await listen(t, gw)
  const admin = await gw.user('admin')

  const healthy = await connect(t, `${url}?token=${admin.token}`)
  const silent = await connect(t, `${url}?token=${admin.token}`, { autoPong: false })
  t.equal(gw.realtime.stats().connections, 2)

  let timer: NodeJS.Timeout | undefined
  const closed = await Promise.race([silent.closed, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 15_000)))])
  clearTimeout(timer)
  t.ok(closed, 'the silent client was disconnected')
  t.equal(closed?.code, 1006, 'terminated (no close handshake)')
  t.ok(silent.pings() >= 1, 'after being pinged')

  // The healthy client answered the same pings and keeps answering.
  const seen = healthy.pings()
  await waitFor(() => healthy.pings() >= seen + 3, 'three more heartbeats')
  t.equal(healthy.socket.readyState, healthy.socket.OPEN, 'the answering client is still connected')
  healthy.send({ op: 'ping', id: 'app-level' })
  t.same(await healthy.next(isType('pong')), { type: 'pong', id: 'app-level' })
  await waitFor(() => gw.realtime.stats().connections === 1, 'the terminated connection to be released')

  // Shutting the gateway down closes every socket, saying why (1001 going away).
  await gw.app.close()
  const bye = await healthy.closed
  t.not(bye.code, 1006, 'closed with a close frame, not dropped')
  t.same(bye, { code: 1001, reason: 'server shutting down' }, 'with 1001 going away')
})

t.test('a plain GET of the WebSocket path answers 426 in the error shape', async (t) => {
  const gw = await testGateway(t)
  const url = await listen(t, gw)
  const res = await fetch(url.replace(/^ws/, 'http'))
  t.equal(res.status, 426)
  t.match(await res.json(), { statusCode: 426, error: 'Upgrade Required', code: 'upgrade_required', message: /Upgrade: websocket/ })
  const head = await fetch(url.replace(/^ws/, 'http'), { method: 'HEAD' })
  t.equal(head.status, 426, 'HEAD too')
  const ws = await connect(t, url)
  ws.send({ op: 'ping', id: 'still' })
  t.match(await ws.next(isType('pong')), { id: 'still' }, 'an upgrade still works')
})
