import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import type { RabbitBus } from '../events/bus-rabbitmq.js'
import { publishRaw } from '../platform/testing/broker.js'
import { serviceUrls } from '../platform/testing/services.js'
import { brokerBarrier, connect, createPackage, durableSeqs, isEvent, isType, listen, postStatus, range, seqOf } from './testing/ws-client.js'

// Two gateway instances on the same database and RabbitMQ: an update made through
// one reaches clients of the other, and a client may move between them with since.

t.test('two gateways behind one broker', async (t) => {
  const a = await testGateway(t, {}, { bus: true })
  const b = await testGateway(t, {}, { bus: true, shared: a })
  const urlA = await listen(t, a)
  const urlB = await listen(t, b)
  const admin = await a.user('admin')
  t.not((a.bus as RabbitBus).hubQueue, (b.bus as RabbitBus).hubQueue, 'each gateway consumes its own hub queue')

  t.test('an update made through A reaches a client on B, once, in order', async (t) => {
    const tn = await createPackage(a, admin.token)
    const channel = `package:${tn}`
    const onB = await connect(t, `${urlB}?token=${admin.token}`)
    onB.send({ op: 'subscribe', channel })
    t.equal((await onB.next(isType('subscribed'))).seq, 1)
    const onAll = await connect(t, `${urlB}?token=${admin.token}`)
    onAll.send({ op: 'subscribe', channel: 'all' })
    await onAll.next(isType('subscribed'))
    for (let i = 1; i <= 10; i++) t.equal(await postStatus(a, admin.token, tn, { status: 'in_transit', note: `via A ${i}` }), 200)
    await onB.collect(10, isEvent(channel))
    await onAll.collect(10, (m) => isEvent('all')(m) && (m.event as { trackingNumber: string }).trackingNumber === tn)
    await brokerBarrier(a, onB, tn)
    t.same(durableSeqs(onB, channel), range(2, 11))
    // The firehose has no starting seq: the creation (committed before the subscription
    // but heard by B after it) may come too. Nothing missing, nothing twice.
    const firehose = durableSeqs(onAll, 'all', tn)
    t.ok(firehose[0]! <= 2, 'starts no later than the first update')
    t.same(firehose, range(firehose[0]!, 11), 'the firehose of B too')
  })

  t.test('updates through both gateways interleave without gaps or doubles on either side', async (t) => {
    const tn = await createPackage(b, admin.token)
    const channel = `package:${tn}`
    const clients = []
    for (const url of [urlA, urlB]) {
      const ws = await connect(t, `${url}?token=${admin.token}`)
      ws.send({ op: 'subscribe', channel })
      await ws.next(isType('subscribed'))
      clients.push(ws)
    }
    const codes = await Promise.all(range(1, 20).map((i) => postStatus(i % 2 ? a : b, admin.token, tn, { status: 'in_transit', note: `n${i}` })))
    t.ok(codes.every((c) => c === 200))
    for (const ws of clients) await ws.collect(20, isEvent(channel))
    await brokerBarrier(a, clients[0]!, tn)
    await brokerBarrier(b, clients[1]!, tn)
    t.same(durableSeqs(clients[0]!, channel), range(2, 21), 'client on A')
    t.same(durableSeqs(clients[1]!, channel), range(2, 21), 'client on B')
  })

  t.test('a client that leaves A can resume on B with since and gets exactly what it missed', async (t) => {
    const tn = await createPackage(a, admin.token)
    const channel = `package:${tn}`
    const onA = await connect(t, `${urlA}?token=${admin.token}`)
    onA.send({ op: 'subscribe', channel })
    await onA.next(isType('subscribed'))
    for (let i = 0; i < 3; i++) await postStatus(a, admin.token, tn, { status: 'in_transit' })
    const last = seqOf((await onA.collect(3, isEvent(channel))).at(-1)!)
    onA.close()
    await onA.closed
    for (let i = 1; i <= 4; i++) await postStatus(i % 2 ? a : b, admin.token, tn, { status: 'in_transit', note: `missed ${i}` })

    const onB = await connect(t, `${urlB}?token=${admin.token}`)
    onB.send({ op: 'subscribe', channel, since: last })
    t.equal((await onB.next(isType('subscribed'))).seq, last + 4)
    const missed = await onB.collect(4, isEvent(channel))
    t.same(missed.map((m) => (m.event as { data: { note: string } }).data.note), ['missed 1', 'missed 2', 'missed 3', 'missed 4'])
    await postStatus(a, admin.token, tn, { status: 'out_for_delivery' })
    await onB.collect(5, isEvent(channel))
    await brokerBarrier(a, onB, tn)
    t.same(durableSeqs(onB, channel), range(last + 1, last + 5))
  })
})

t.test('an unparseable message on the exchange is dropped; the hub queue keeps delivering', async (t) => {
  const a = await testGateway(t, {}, { bus: true })
  const b = await testGateway(t, {}, { bus: true, shared: a })
  const urlB = await listen(t, b)
  const admin = await a.user('admin')
  const tn = await createPackage(a, admin.token)
  const channel = `package:${tn}`
  const onB = await connect(t, `${urlB}?token=${admin.token}`)
  onB.send({ op: 'subscribe', channel })
  await onB.next(isType('subscribed'))

  // Reaches every hub queue, B's too; B cannot parse it.
  await publishRaw((await serviceUrls()).amqpUrl, 'package.status_changed', Buffer.from('{not json'))
  for (let i = 1; i <= 3; i++) t.equal(await postStatus(a, admin.token, tn, { status: 'in_transit', note: `after garbage ${i}` }), 200)
  // Only through B's hub queue can these reach a client on B.
  await onB.collect(3, isEvent(channel))
  t.same(durableSeqs(onB, channel), range(2, 4), 'the updates made through A after the garbage arrived, in order')
  t.ok(b.bus!.connected, 'B is still connected')
})
