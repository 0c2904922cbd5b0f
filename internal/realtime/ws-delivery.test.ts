import t from 'tap'
import { bearer, testGateway } from '../app/testing/gateway.js'
import { brokerBarrier, connect, createPackage, durableSeqs, isEvent, isType, listen, postStatus, range, seqOf } from './testing/ws-client.js'

// Delivery on one gateway with the bus: every event reaches the client twice (at
// once from the local path, later as the broker copy) and must be shown once.

t.test('delivery', async (t) => {
  const gw = await testGateway(t, {}, { bus: true })
  const url = await listen(t, gw)
  const admin = await gw.user('admin')

  t.test('a status update reaches the subscriber as the contract envelope', async (t) => {
    const tn = await createPackage(gw, admin.token)
    const ws = await connect(t, `${url}?token=${admin.token}`)
    ws.send({ op: 'subscribe', channel: `package:${tn}`, id: 1 })
    t.same(await ws.next(isType('subscribed')), { type: 'subscribed', channel: `package:${tn}`, seq: 1, id: 1 })
    t.equal(await postStatus(gw, admin.token, tn, { status: 'info_received', note: 'label printed' }), 200)
    const msg = await ws.next(isEvent(`package:${tn}`))
    t.same(Object.keys(msg).sort(), ['channel', 'event', 'type'])
    const event = msg.event as Record<string, unknown>
    t.same(Object.keys(event).sort(), ['actor', 'data', 'id', 'occurredAt', 'recordedAt', 'requestId', 'seq', 'trackingNumber', 'type'], 'an admin also gets who caused it, and by which request')
    t.match(event, {
      id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      type: 'package.status_changed',
      trackingNumber: tn,
      seq: 2,
      data: { status: 'info_received', previousStatus: 'pending', note: 'label printed' },
    })
    for (const f of ['occurredAt', 'recordedAt'] as const) {
      t.equal(new Date(event[f] as string).toISOString(), event[f], `${f} is an RFC 3339 UTC time`)
    }
    const log = await gw.app.inject({ method: 'GET', url: `/api/v1/packages/${tn}/events`, headers: bearer(admin.token) })
    const stored = (log.json() as { items: Array<{ id: string; seq: number }> }).items.at(-1)
    t.match(stored, { id: event.id, seq: 2 }, 'the same event as in the REST event log')
  })

  t.test('100 rapid status updates arrive in order, each exactly once', async (t) => {
    const tn = await createPackage(gw, admin.token)
    const ws = await connect(t, `${url}?token=${admin.token}`)
    const channel = `package:${tn}`
    ws.send({ op: 'subscribe', channel })
    await ws.next(isType('subscribed'))
    for (let i = 1; i <= 100; i++) {
      const code = await postStatus(gw, admin.token, tn, { status: 'in_transit', note: `checkpoint ${i}` })
      if (code !== 200) t.fail(`update ${i} answered ${code}`)
    }
    const events = await ws.collect(100, isEvent(channel))
    t.same(events.map((m) => (m.event as { data: { note: string } }).data.note), range(1, 100).map((i) => `checkpoint ${i}`), 'in the order they were made')
    await brokerBarrier(gw, ws, tn)
    t.same(durableSeqs(ws, channel), range(2, 101), 'consecutive seqs, no duplicate once the broker copies are in')
  })

  t.test('concurrent updates of one package still arrive gap-free and once', async (t) => {
    const tn = await createPackage(gw, admin.token, { trackingNumber: `CONC${Date.now()}` })
    await postStatus(gw, admin.token, tn, { status: 'in_transit' })
    const ws = await connect(t, `${url}?token=${admin.token}`)
    const channel = `package:${tn}`
    ws.send({ op: 'subscribe', channel })
    await ws.next(isType('subscribed'))
    const codes = await Promise.all(range(1, 30).map((i) => postStatus(gw, admin.token, tn, { status: 'in_transit', note: `parallel ${i}` })))
    t.ok(codes.every((c) => c === 200), 'all updates succeed')
    await ws.collect(30, isEvent(channel))
    await brokerBarrier(gw, ws, tn)
    t.same(durableSeqs(ws, channel), range(3, 32))
  })

  t.test('resume: reconnecting with since gets exactly the missed events, then live ones', async (t) => {
    const tn = await createPackage(gw, admin.token)
    const channel = `package:${tn}`
    const first = await connect(t, `${url}?token=${admin.token}`)
    first.send({ op: 'subscribe', channel })
    await first.next(isType('subscribed'))
    for (let i = 1; i <= 3; i++) await postStatus(gw, admin.token, tn, { status: 'in_transit', note: `seen ${i}` })
    const seen = await first.collect(3, isEvent(channel))
    const last = seqOf(seen.at(-1)!)
    t.equal(last, 4)
    first.close()
    await first.closed

    for (let i = 1; i <= 5; i++) t.equal(await postStatus(gw, admin.token, tn, { status: 'in_transit', note: `missed ${i}` }), 200)

    const again = await connect(t, `${url}?token=${admin.token}`)
    again.send({ op: 'subscribe', channel, since: last, id: 'resume' })
    const sub = await again.next(isType('subscribed'))
    t.same(sub, { type: 'subscribed', channel, seq: last + 5, id: 'resume' }, 'subscribed.seq is the current seq')
    t.equal(again.messages.indexOf(sub), 0, 'subscribed comes first')
    const missed = await again.collect(5, isEvent(channel))
    t.same(missed.map((m) => (m.event as { data: { note: string } }).data.note), range(1, 5).map((i) => `missed ${i}`))
    for (let i = 1; i <= 2; i++) await postStatus(gw, admin.token, tn, { status: 'in_transit', note: `live ${i}` })
    await again.collect(7, isEvent(channel))
    await brokerBarrier(gw, again, tn)
    t.same(durableSeqs(again, channel), range(last + 1, last + 7), 'the missed 5, then the live 2, nothing twice')
  })

  t.test('since 0 replays the whole history; no since starts at the current seq', async (t) => {
    const tn = await createPackage(gw, admin.token)
    for (let i = 0; i < 3; i++) await postStatus(gw, admin.token, tn, { status: 'in_transit' })
    const channel = `package:${tn}`
    const all = await connect(t, `${url}?token=${admin.token}`)
    all.send({ op: 'subscribe', channel, since: 0 })
    t.equal((await all.next(isType('subscribed'))).seq, 4)
    const history = await all.collect(4, isEvent(channel))
    t.same(history.map((m) => (m.event as { type: string }).type), ['package.created', 'package.status_changed', 'package.status_changed', 'package.status_changed'])
    const fresh = await connect(t, `${url}?token=${admin.token}`)
    fresh.send({ op: 'subscribe', channel })
    t.equal((await fresh.next(isType('subscribed'))).seq, 4)
    await postStatus(gw, admin.token, tn, { status: 'out_for_delivery' })
    await fresh.next(isEvent(channel))
    await brokerBarrier(gw, fresh, tn)
    t.same(durableSeqs(fresh, channel), [5], 'no history without since')
    t.same(durableSeqs(all, channel), range(1, 5))
  })

  t.test('subscribing while updates are being made loses nothing and doubles nothing', async (t) => {
    const tn = await createPackage(gw, admin.token)
    await postStatus(gw, admin.token, tn, { status: 'in_transit' })
    const channel = `package:${tn}`
    let done = false
    const writer = (async () => {
      for (let i = 0; i < 40; i++) await postStatus(gw, admin.token, tn, { status: 'in_transit', note: `w${i}` })
      done = true
    })()
    const clients = []
    // Subscribe a few clients at different moments during the writes.
    for (let k = 0; k < 4 && !done; k++) {
      const ws = await connect(t, `${url}?token=${admin.token}`)
      ws.send({ op: 'subscribe', channel })
      const { seq } = await ws.next(isType('subscribed'))
      clients.push({ ws, from: seq as number })
      await new Promise((r) => setTimeout(r, 15))
    }
    await writer
    for (const { ws, from } of clients) {
      await ws.collect(42 - from, isEvent(channel))
    }
    await brokerBarrier(gw, clients[0]!.ws, tn)
    for (const { ws, from } of clients) t.same(durableSeqs(ws, channel), range(from + 1, 42), `a client subscribed at seq ${from}`)
  })
})
