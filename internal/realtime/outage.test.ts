import t, { type Test } from 'tap'
import { bearer, testGateway, type TestGateway } from '../app/testing/gateway.js'
import { serviceUrls } from '../platform/testing/services.js'
import { tcpProxy } from '../platform/testing/tcp-proxy.js'
import { brokerBarrier, connect, createPackage, durableSeqs, isEvent, isType, listen, outboxPending, postStatus, range, waitFor } from './testing/ws-client.js'

// Gateway A reaches RabbitMQ through a TCP proxy the test can cut; gateway B talks
// to RabbitMQ directly. Both share the database.

async function setup(t: Test, opts: { bRelay: boolean }) {
  const proxy = await tcpProxy(t, (await serviceUrls()).amqpUrl, 5672)
  const a = await testGateway(t, {}, { bus: true, amqpUrl: proxy.url })
  const b = await testGateway(t, {}, { bus: true, shared: a })
  // Without B's relay only A can publish A's events: they must wait in the outbox.
  if (!opts.bRelay) await b.relay!.stop()
  await waitFor(() => a.bus!.connected, 'gateway A to reach the broker through the proxy')
  const admin = await a.user('admin')
  return { proxy, a, b, admin, urlA: await listen(t, a), urlB: await listen(t, b) }
}

const stats = async (gw: TestGateway, token: string) =>
  (await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(token) })).json() as { events: { outboxPending: number } }

t.test('events written while the broker is unreachable are kept and delivered after it comes back', async (t) => {
  const { proxy, a, b, admin, urlA, urlB } = await setup(t, { bRelay: false })
  const tn = await createPackage(a, admin.token)
  const channel = `package:${tn}`
  const onA = await connect(t, `${urlA}?token=${admin.token}`)
  const onB = await connect(t, `${urlB}?token=${admin.token}`)
  for (const ws of [onA, onB]) {
    ws.send({ op: 'subscribe', channel })
    await ws.next(isType('subscribed'))
  }
  t.equal(await postStatus(a, admin.token, tn, { status: 'in_transit', note: 'before' }), 200)
  await onB.next(isEvent(channel))
  await brokerBarrier(a, onA, tn)

  proxy.cut()
  await waitFor(() => !a.bus!.connected, 'gateway A to notice the outage')
  const N = 12
  for (let i = 1; i <= N; i++) t.equal(await postStatus(a, admin.token, tn, { status: 'in_transit', note: `outage ${i}` }), 200, `update ${i} succeeds during the outage`)
  t.equal(await outboxPending(a), N, 'the events wait in the outbox')
  t.ok((await stats(a, admin.token)).events.outboxPending >= N, '/stats shows them pending')
  await onA.collect(N + 1, isEvent(channel))
  t.same(durableSeqs(onA, channel), range(2, N + 2), 'clients of A keep receiving through the local path')
  t.same(durableSeqs(onB, channel), [2], 'nothing reached B yet')

  proxy.heal()
  await onB.collect(N + 1, isEvent(channel))
  await waitFor(async () => (await outboxPending(a)) === 0, 'the outbox to drain')
  await brokerBarrier(b, onB, tn)
  await brokerBarrier(b, onA, tn)
  t.same(durableSeqs(onB, channel), range(2, N + 2), 'B got every event, in order, once')
  t.same(durableSeqs(onA, channel), range(2, N + 2), 'A shows its own events once, although they came back through the broker')
  const notes = onB.messages.filter(isEvent(channel)).map((m) => m.event as { seq?: number; data: { note?: string } }).filter((e) => e.seq !== undefined).map((e) => e.data.note)
  t.same(notes, ['before', ...range(1, N).map((i) => `outage ${i}`)], 'in the order they were made')

  // Business as usual afterwards, in both directions.
  await postStatus(a, admin.token, tn, { status: 'out_for_delivery' })
  await postStatus(b, admin.token, tn, { status: 'delivered' })
  for (const ws of [onA, onB]) await ws.collect(N + 3, isEvent(channel))
  await brokerBarrier(b, onA, tn)
  await brokerBarrier(b, onB, tn)
  t.same(durableSeqs(onA, channel), range(2, N + 4))
  t.same(durableSeqs(onB, channel), range(2, N + 4))
})

t.test('a gateway cut off from the broker catches up on what other gateways published meanwhile', async (t) => {
  const { proxy, a, b, admin, urlA } = await setup(t, { bRelay: true })
  const tn = await createPackage(b, admin.token)
  const other = await createPackage(b, admin.token)
  const onA = await connect(t, `${urlA}?token=${admin.token}`)
  onA.send({ op: 'subscribe', channel: `package:${tn}` })
  await onA.next(isType('subscribed'))
  onA.send({ op: 'subscribe', channel: 'all' })
  await onA.next(isType('subscribed'))
  await brokerBarrier(b, onA, tn)

  proxy.cut()
  await waitFor(() => !a.bus!.connected, 'gateway A to notice the outage')
  // Published by B at once, while A's hub queue (exclusive to its lost connection) is gone.
  for (let i = 1; i <= 5; i++) t.equal(await postStatus(b, admin.token, tn, { status: 'in_transit', note: `missed ${i}` }), 200)
  await postStatus(b, admin.token, other, { status: 'in_transit' })
  await waitFor(async () => (await outboxPending(b)) === 0, 'B to publish')

  proxy.heal()
  await onA.collect(5, isEvent(`package:${tn}`))
  await onA.collect(1, (m) => isEvent('all')(m) && (m.event as { trackingNumber: string }).trackingNumber === other && (m.event as { seq: number }).seq === 2)
  await brokerBarrier(b, onA, tn)
  t.same(durableSeqs(onA, `package:${tn}`), range(2, 6), 'the missed events, replayed in order, once')
  t.same(durableSeqs(onA, 'all', tn).filter((s) => s >= 2), range(2, 6), 'on the firehose too')
  t.same(durableSeqs(onA, 'all', other).filter((s) => s >= 2), [2])
})
