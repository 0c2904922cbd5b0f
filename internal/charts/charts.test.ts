import { randomUUID } from 'node:crypto'
import t from 'tap'
import { eventLog, type LoggedEvent } from '../app/testing/events.js'
import { startWorker, workerGateway } from '../app/testing/worker.js'
import { rebuildMetrics } from '../app/metrics-rebuild.js'
import { eventually, publishRaw, testVhost } from '../platform/testing/broker.js'
import { api, errorBody } from '../package/fixtures.test.js'
import { foldEvents } from './domain.js'
import { PostgresMetricsStore } from './postgres.js'
import type pg from 'pg'
import type { TestGateway } from '../app/testing/gateway.js'

const amqpUrl = await testVhost(t)
const DAY_MS = 86_400_000
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const today = dayOf(Date.now())
const daysAgo = (n: number) => dayOf(Date.now() - n * DAY_MS)
const started = Date.now()
/** Noon UTC n days ago, or a minute before the start for today (status changes may not be dated in the future). */
const noonOf = (n: number) => new Date(Math.min(Date.parse(`${daysAgo(n)}T12:00:00Z`), started - 60_000)).toISOString()

/** Every aggregate row, in a fixed order: what the charts are made of. */
async function aggregates(pool: pg.Pool) {
  const q = async (sql: string) => (await pool.query(sql)).rows
  return {
    days: await q(`SELECT to_char(day, 'YYYY-MM-DD') AS day, created, delivered, failed_attempts, exceptions, delivered_estimated, delivered_on_time FROM metrics_orders_by_day ORDER BY day`),
    drivers: await q(`SELECT driver_id, to_char(day, 'YYYY-MM-DD') AS day, delivered, delivered_estimated, delivered_on_time, (SELECT array_agg(s ORDER BY s) FROM unnest(accept_to_delivered_s) s) AS seconds FROM metrics_driver_day ORDER BY driver_id, day`),
    packages: await q(`SELECT package_id, counted_seq, external, to_char(estimated_day, 'YYYY-MM-DD') AS estimated_day, driver_id, accepted_at FROM metrics_packages ORDER BY package_id`),
  }
}

/** The driver's acceptance, written to the log at a chosen time in the past (the API would stamp it now). */
async function logAccepted(gw: TestGateway, tn: string, driverId: string, occurredAt: string): Promise<void> {
  await gw.pool.query(
    `WITH p AS (UPDATE packages SET last_seq = last_seq + 1, version = version + 1 WHERE tracking_number = $1 AND deleted_at IS NULL RETURNING id, last_seq)
     INSERT INTO package_events (id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data)
     SELECT $2, p.id, p.last_seq, 'package.assignment_accepted', $1, $3, now(), jsonb_build_object('driverId', $4::text) FROM p`,
    [tn, randomUUID(), occurredAt, driverId],
  )
  await gw.packages.cache.invalidate(tn)
}

t.test('charts from the metrics role', async (t) => {
  const gw = await workerGateway(t, amqpUrl)
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['metrics'] })
  const { call, create, status, assign } = api(gw)
  const admin = await gw.user('admin')
  const operator = await gw.user('operator')
  const customer = await gw.user('customer')
  const dana = await gw.user('driver', 'Dana')
  const drained = async (what: string) => {
    const logged = (await eventLog(gw)).length
    await eventually(() => w.worker.metrics!.counters.counted + w.worker.metrics!.counters.duplicates >= logged && w.worker.consumers[0]!.counters.acked >= logged, what)
  }
  const ordersByDay = async (from: string, to: string, token = admin.token) => call('GET', `/metrics/orders-by-day?from=${from}&to=${to}`, { token })

  // Due yesterday: one delivered two days ago (on time), one today (late); one without an estimate.
  const due = `${daysAgo(1)}T18:00:00.000Z`
  const early = await create(admin.token, { estimatedDelivery: due })
  const late = await create(admin.token, { estimatedDelivery: due })
  const plain = await create(admin.token)
  for (const p of [early, late, plain]) await assign(admin.token, p.trackingNumber, dana.id)
  await logAccepted(gw, early.trackingNumber, dana.id, new Date(Date.parse(noonOf(2)) - 600_000).toISOString())
  await logAccepted(gw, late.trackingNumber, dana.id, new Date(Date.parse(noonOf(0)) - 1_800_000).toISOString())
  for (const p of [early, late, plain]) await status(admin.token, p.trackingNumber, { status: 'in_transit', occurredAt: noonOf(3) })
  await status(admin.token, early.trackingNumber, { status: 'out_for_delivery', occurredAt: noonOf(2) })
  await status(admin.token, early.trackingNumber, { status: 'delivered', occurredAt: noonOf(2) })
  await status(admin.token, late.trackingNumber, { status: 'out_for_delivery', occurredAt: noonOf(3) })
  await status(admin.token, late.trackingNumber, { status: 'failed_attempt', occurredAt: noonOf(3) })
  await status(admin.token, late.trackingNumber, { status: 'out_for_delivery', occurredAt: noonOf(0) })
  await status(admin.token, late.trackingNumber, { status: 'delivered', occurredAt: noonOf(0) })
  await status(admin.token, plain.trackingNumber, { status: 'exception', occurredAt: noonOf(3) })
  await status(admin.token, plain.trackingNumber, { status: 'out_for_delivery', occurredAt: noonOf(0) })
  await status(admin.token, plain.trackingNumber, { status: 'delivered', occurredAt: noonOf(0) })
  await drained('every event counted')

  t.test('orders by day: one row per day, empty days as zeros', async (t) => {
    const res = await ordersByDay(daysAgo(5), today)
    t.equal(res.statusCode, 200)
    t.same(res.json().items, [
      { day: daysAgo(5), created: 0, delivered: 0, failedAttempts: 0, exceptions: 0, onTimeRate: null },
      { day: daysAgo(4), created: 0, delivered: 0, failedAttempts: 0, exceptions: 0, onTimeRate: null },
      { day: daysAgo(3), created: 0, delivered: 0, failedAttempts: 1, exceptions: 1, onTimeRate: null },
      { day: daysAgo(2), created: 0, delivered: 1, failedAttempts: 0, exceptions: 0, onTimeRate: 1 },
      { day: daysAgo(1), created: 0, delivered: 0, failedAttempts: 0, exceptions: 0, onTimeRate: null },
      { day: today, created: 3, delivered: 2, failedAttempts: 0, exceptions: 0, onTimeRate: 0 },
    ], 'the package without an estimate is delivered but outside the rate')
    t.equal((await ordersByDay(today, today, operator.token)).statusCode, 200, 'operators read it')
  })

  t.test('drivers: deliveries, median accept-to-delivered, on-time rate', async (t) => {
    const res = await call('GET', `/metrics/drivers?from=${daysAgo(7)}&to=${today}`, { token: admin.token })
    t.equal(res.statusCode, 200)
    t.same(res.json().items, [{ driverId: dana.id, name: 'Dana', delivered: 3, medianAcceptToDeliveredS: 1200, onTimeRate: 0.5 }], 'median of 600 s and 1800 s; the delivery without an accept is not in it')
    t.same((await call('GET', `/metrics/drivers?from=${daysAgo(1)}&to=${daysAgo(1)}`, { token: admin.token })).json(), { items: [] })
  })

  t.test('a redelivered event counts once', async (t) => {
    const before = await aggregates(gw.pool)
    const delivered = (await eventLog(gw)).find((e) => e.tracking_number === early.trackingNumber && e.data.status === 'delivered')!
    const duplicates = w.worker.metrics!.counters.duplicates
    await publishRaw(amqpUrl, 'package.status_changed', envelope(delivered))
    await eventually(() => w.worker.metrics!.counters.duplicates === duplicates + 1, 'the repeat to be recognised')
    t.same(await aggregates(gw.pool), before)
  })

  t.test('counted out of order, or twice at once, each event still counts once', async (t) => {
    const store = new PostgresMetricsStore(gw.pool)
    const before = await aggregates(gw.pool)
    await gw.pool.query('UPDATE metrics_packages SET counted_seq = 0, estimated_day = NULL, driver_id = NULL, accepted_at = NULL WHERE package_id = (SELECT id FROM packages WHERE tracking_number = $1)', [plain.trackingNumber])
    await gw.pool.query(`UPDATE metrics_orders_by_day SET created = created - 1 WHERE day = $1`, [today])
    await gw.pool.query(`UPDATE metrics_orders_by_day SET exceptions = exceptions - 1 WHERE day = $1`, [daysAgo(3)])
    await gw.pool.query(`UPDATE metrics_orders_by_day SET delivered = delivered - 1 WHERE day = $1`, [today])
    await gw.pool.query(`UPDATE metrics_driver_day SET delivered = delivered - 1 WHERE day = $1`, [today])
    const events = (await eventLog(gw)).filter((e) => e.tracking_number === plain.trackingNumber).sort((a, b) => a.seq - b.seq)
    const last = events[events.length - 1]!
    const results = await Promise.all([store.countThrough(last.id, foldEvents), store.countThrough(last.id, foldEvents), store.countThrough(events[1]!.id, foldEvents)])
    t.same([...results.slice(0, 2)].sort(), ['counted', 'duplicate'], 'the same event twice at once: counted by one, a duplicate for the other')
    t.same(await aggregates(gw.pool), before)
    t.equal(await store.countThrough(randomUUID(), foldEvents), 'unknown')
  })

  t.test('rebuilt from the event log, the aggregates equal the live ones', async (t) => {
    const live = await aggregates(gw.pool)
    t.ok(live.days.length > 0 && live.drivers.length > 0)
    const result = await rebuildMetrics(gw.pool)
    t.same(result, { packages: 3, events: (await eventLog(gw)).length })
    t.same(await aggregates(gw.pool), live)
  })

  t.test('day ranges: at most 366 days, real days, from before to', async (t) => {
    t.equal((await ordersByDay('2024-01-01', '2024-12-31')).json().items.length, 366, 'a leap year')
    const long = await ordersByDay('2025-01-01', '2026-01-02')
    t.match(long.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/query/to' }] })
    t.match((await ordersByDay('2025-02-30', '2025-03-01')).json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/query/from' }] })
    t.match((await ordersByDay(today, daysAgo(1))).json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/query/to' }] })
    t.match((await call('GET', '/metrics/orders-by-day?from=2025-01-01', { token: admin.token })).json(), errorBody(400, 'validation_failed'))
    t.match((await call('GET', '/metrics/drivers?from=2025-01-01&to=2026-01-02', { token: admin.token })).json(), { details: [{ path: '/query/to' }] })
  })

  t.test('roles: staff only', async (t) => {
    t.match((await ordersByDay(today, today, customer.token)).json(), errorBody(403, 'forbidden'))
    t.match((await call('GET', `/metrics/drivers?from=${today}&to=${today}`, { token: dana.token })).json(), errorBody(403, 'forbidden'))
    t.match((await call('GET', `/metrics/orders-by-day?from=${today}&to=${today}`)).json(), errorBody(401, 'unauthorized'))
    const prometheus = await gw.app.inject({ method: 'GET', url: '/metrics' })
    t.equal(prometheus.statusCode, 200, 'the Prometheus /metrics at the root is untouched')
    t.match(prometheus.body, /delivertrack_/)
  })
})

const envelope = (e: LoggedEvent) => ({ id: e.id, type: e.type, trackingNumber: e.tracking_number, seq: e.seq, occurredAt: e.occurred_at, recordedAt: e.recorded_at, data: e.data })
