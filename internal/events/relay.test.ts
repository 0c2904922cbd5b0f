import amqplib from 'amqplib'
import t from 'tap'
import { EXCHANGE } from './bus-rabbitmq-topology.js'
import { testGateway } from '../app/testing/gateway.js'
import { serviceUrls } from '../platform/testing/services.js'
import { connect, createPackage, durableSeqs, isEvent, isType, listen, outboxPending, postStatus, range, waitFor } from '../realtime/testing/ws-client.js'

// The outbox relay: package_events rows are published to the topic exchange and
// stamped, whoever wrote them and whenever a relay gets to them.

t.test('events written while no gateway could publish go out when a gateway with the bus starts', async (t) => {
  const writer = await testGateway(t)
  await writer.relay.stop() // no relay: its events stay in the outbox
  const admin = await writer.user('admin')
  const tn = await createPackage(writer, admin.token)

  const consumer = await testGateway(t, {}, { bus: true, shared: writer })
  await consumer.relay.stop() // consumes, but leaves publishing to the gateway started below
  const ws = await connect(t, `${await listen(t, consumer)}?token=${admin.token}`)
  const channel = `package:${tn}`
  ws.send({ op: 'subscribe', channel })
  const { seq } = await ws.next(isType('subscribed'))

  for (let i = 1; i <= 5; i++) t.equal(await postStatus(writer, admin.token, tn, { status: 'in_transit', note: `offline ${i}` }), 200)
  const pendingBefore = await outboxPending(writer)
  t.ok(pendingBefore >= 5, `the events are pending (${pendingBefore})`)

  const restarted = await testGateway(t, {}, { bus: true, shared: writer })
  await waitFor(async () => (await outboxPending(writer)) === 0, 'the outbox to drain')
  t.ok(restarted.relay.published >= 5, 'published by the gateway that started')
  const { rows } = await writer.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM package_events e JOIN packages p ON p.id = e.package_id WHERE p.tracking_number = $1 AND e.published_at IS NULL`,
    [tn],
  )
  t.equal(rows[0]!.n, 0, 'every row of the package is stamped published')
  await ws.collect(5, isEvent(channel))
  t.same(durableSeqs(ws, channel), range((seq as number) + 1, (seq as number) + 5), 'the subscriber on another gateway got them in order')
})

t.test('what the relays put on the exchange: the envelope, keyed by type, each package in seq order', async (t) => {
  // A queue of the test's own on the exchange sees what any consumer would.
  const connection = await amqplib.connect((await serviceUrls()).amqpUrl)
  t.teardown(() => connection.close())
  const channel = await connection.createChannel()
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true })
  await channel.bindQueue(queue, EXCHANGE, 'package.#')
  const seen: Array<{ key: string; messageId: string; contentType: string; persistent: boolean; body: Record<string, unknown> }> = []
  await channel.consume(queue, (m) => {
    if (!m) return
    seen.push({ key: m.fields.routingKey, messageId: m.properties.messageId as string, contentType: m.properties.contentType as string, persistent: m.properties.deliveryMode === 2, body: JSON.parse(m.content.toString()) as Record<string, unknown> })
  }, { noAck: true })

  // Two gateways, two relays, sharing the work on the same outbox.
  const a = await testGateway(t, {}, { bus: true })
  const b = await testGateway(t, {}, { bus: true, shared: a })
  const admin = await a.user('admin')
  const tns = await Promise.all(range(1, 4).map(() => createPackage(a, admin.token)))
  await Promise.all(tns.map(async (tn, k) => {
    for (let i = 0; i < 15; i++) await postStatus(i % 2 ? a : b, admin.token, tn, { status: 'in_transit', note: `p${k} u${i}` })
  }))
  await waitFor(async () => (await outboxPending(a)) === 0, 'the outbox to drain')

  const { rows } = await a.pool.query<{ id: string; seq: number; type: string; tracking_number: string; occurred_at: Date; recorded_at: Date; data: unknown; actor: unknown; request_id: string | null }>(
    'SELECT id, seq::int AS seq, type, tracking_number, occurred_at, recorded_at, data, actor, request_id FROM package_events WHERE tracking_number = ANY($1) ORDER BY tracking_number, seq',
    [tns],
  )
  t.equal(rows.length, 4 * 16)
  const ours = () => seen.filter((m) => tns.includes(m.body.trackingNumber as string))
  await waitFor(() => new Set(ours().map((m) => m.messageId)).size >= rows.length, 'every event to reach the test queue')

  const first = new Map<string, (typeof seen)[number]>()
  for (const m of ours()) if (!first.has(m.messageId)) first.set(m.messageId, m)
  for (const row of rows) {
    const m = first.get(row.id)
    if (!m) {
      t.fail(`event ${row.tracking_number}#${row.seq} was not published`)
      continue
    }
    const expected = { id: row.id, type: row.type, trackingNumber: row.tracking_number, seq: row.seq, occurredAt: row.occurred_at.toISOString(), recordedAt: row.recorded_at.toISOString(), data: row.data, ...(row.actor ? { actor: row.actor } : {}), ...(row.request_id ? { requestId: row.request_id } : {}) }
    if (JSON.stringify(m.body) !== JSON.stringify(expected) || m.key !== row.type || !m.persistent || m.contentType !== 'application/json') {
      t.same({ key: m.key, body: m.body, persistent: m.persistent, contentType: m.contentType }, { key: row.type, body: expected, persistent: true, contentType: 'application/json' }, `event ${row.tracking_number}#${row.seq}`)
    }
  }
  t.pass('every row was published once or more as its envelope, routing key = type, persistent JSON, message id = event id')
  for (const tn of tns) {
    const order = ours().filter((m) => m.body.trackingNumber === tn).map((m) => m.body.seq as number)
    const firstSeen = order.filter((s, i) => order.indexOf(s) === i)
    t.same(firstSeen, range(1, 16), `${tn}: published in seq order`)
  }
  t.ok(a.relay!.published + b.relay!.published >= rows.length, 'the two relays together published them all')
})

t.test('who wakes the relay: ordinary writers through NOTIFY, a gateway in-process without it', async (t) => {
  const gw = await testGateway(t)
  const admin = await gw.user('admin')
  const tn = await createPackage(gw, admin.token)
  const listener = await gw.pool.connect()
  t.teardown(() => listener.release())
  const heard: string[] = []
  listener.on('notification', (n) => heard.push(n.channel))
  await listener.query('LISTEN delivertrack_outbox')

  // 1. The gateway's write (its sessions run with IN_PROCESS_WAKEUP): no NOTIFY.
  t.equal(await postStatus(gw, admin.token, tn, { status: 'in_transit', note: 'through the gateway' }), 200)
  // 2. An ordinary session writes an event the way a script or psql would.
  await gw.pool.query(
    `INSERT INTO package_events (id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data)
     SELECT gen_random_uuid(), id, last_seq + 1, 'package.updated', tracking_number, now(), now(), '{}' FROM packages WHERE tracking_number = $1`,
    [tn],
  )
  await waitFor(() => heard.length >= 1, 'the ordinary insert to notify')
  // Notifications arrive in commit order: had the gateway's insert notified, it would be here first.
  await listener.query('SELECT 1')
  t.same(heard, ['delivertrack_outbox'], 'exactly one notification: from the ordinary writer, none from the gateway')
})
