import { randomUUID } from 'node:crypto'
import t from 'tap'
import type pg from 'pg'
import type { Principal } from '../auth/domain.js'
import type { BusMessage } from '../events/bus.js'
import type { EventEnvelope } from '../events/envelope.js'
import type { RoleLogger } from '../events/roles.js'
import { testGateway } from '../app/testing/gateway.js'
import { eventLog } from '../app/testing/events.js'
import { BusAnnouncer } from './announcer-bus.js'
import { PostgresNotificationRepository } from './postgres.js'
import { InboxRole } from './role-service.js'

const admin: Principal = { id: randomUUID(), role: 'admin', kind: 'user' }
const quiet: RoleLogger = { info: () => undefined, warn: () => undefined, error: () => undefined }

/** The role over the gateway's database and in-process bus, and the notices the bus carried. */
function inboxOn(pool: pg.Pool = gw.pool) {
  const notices: EventEnvelope[] = []
  void gw.bus.subscribe((m: BusMessage) => {
    if (m.event.type === 'notification.created') notices.push(m.event)
  })
  const role = new InboxRole({ notifications: new PostgresNotificationRepository(pool), announcer: new BusAnnouncer(gw.bus), log: quiet })
  const handle = (event: EventEnvelope) => role.handle({ event, attempt: 1, final: false })
  return { role, notices, handle }
}

/** The logged event of this package and type, as the bus carries it. */
async function logged(tn: string, type: string): Promise<EventEnvelope> {
  const e = (await eventLog(gw)).filter((x) => x.tracking_number === tn && x.type === type).at(-1)!
  return { id: e.id, type: e.type as EventEnvelope['type'], trackingNumber: tn, seq: e.seq, occurredAt: e.occurred_at.toISOString(), recordedAt: e.recorded_at.toISOString(), data: e.data }
}

async function rowsOf(eventId: string) {
  const { rows } = await gw.pool.query<{ user_id: string; title: string; body: string; type: string }>('SELECT user_id, title, body, type FROM notifications WHERE event_id = $1 ORDER BY user_id', [eventId])
  return rows
}

const settle = () => new Promise((resolve) => setImmediate(resolve))
// One gateway (and schema) for the file: each test works on packages and users of its own.
const gw = await testGateway(t)

t.test('a status change notifies the owner and the trackers, not strangers; redelivery adds nothing', async (t) => {
  const { notices, handle } = inboxOn()
  const owner = await gw.user('customer', 'Olga')
  const tracker = await gw.user('customer', 'Tom')
  const stranger = await gw.user('customer', 'Sam')
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Olga' }, customerId: owner.id })
  await gw.packages.addTracking({ id: tracker.id, role: 'customer', kind: 'user' }, { trackingNumber: pkg.trackingNumber })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'in_transit' })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'out_for_delivery', location: { lat: 52.5, lng: 13.4, city: 'Berlin' } })
  const event = await logged(pkg.trackingNumber, 'package.status_changed')

  await handle(event)
  const rows = await rowsOf(event.id)
  t.same(rows.map((r) => r.user_id).sort(), [owner.id, tracker.id].sort(), 'the owner and the tracker, nobody else')
  t.notOk(rows.some((r) => r.user_id === stranger.id), 'the stranger hears nothing')
  t.match(rows[0], { type: 'package.status_changed', title: `${pkg.trackingNumber} is out for delivery`, body: 'Your package is out for delivery in Berlin.' })
  await settle()
  t.same(notices.map((n) => n.data.userId).sort(), [owner.id, tracker.id].sort(), 'each new notification announced once')
  t.ok(notices.every((n) => n.seq === undefined && n.type === 'notification.created'), 'live-only notices (no seq)')

  await handle(event)
  await handle(event)
  t.equal((await rowsOf(event.id)).length, 2, 'the same event again: no duplicates')
  await settle()
  t.equal(notices.length, 2, 'and nothing announced again')
})

t.test('a driver hears of an offer and of its cancellation; other events make nothing', async (t) => {
  const { handle, role } = inboxOn()
  const driver = await gw.user('driver', 'Dana')
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Ann' } })
  await gw.assignments.assign(admin, pkg.trackingNumber, { driverId: driver.id })
  const offered = await logged(pkg.trackingNumber, 'package.assigned')
  await handle(offered)
  t.match(await rowsOf(offered.id), [{ user_id: driver.id, type: 'package.assigned', title: `New delivery offered: ${pkg.trackingNumber}` }])

  const cancelled = { ...offered, id: randomUUID(), type: 'package.assignment_cancelled', data: { driverId: driver.id } } as unknown as EventEnvelope
  await handle(cancelled)
  t.match(await rowsOf(cancelled.id), [{ user_id: driver.id, type: 'package.assignment_cancelled', title: `Delivery withdrawn: ${pkg.trackingNumber}` }])

  await gw.assignments.respond({ id: driver.id, role: 'driver', kind: 'user' }, pkg.trackingNumber, 'decline')
  await handle(await logged(pkg.trackingNumber, 'package.assignment_declined'))
  await handle({ ...offered, id: randomUUID(), data: { driverId: randomUUID() } })
  await handle(await logged(pkg.trackingNumber, 'package.created'))
  const { rows } = await gw.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE tracking_number = $1', [pkg.trackingNumber])
  t.equal(rows[0]!.n, 2, 'a decline, an unknown account or a creation: no notification')
  await t.rejects(handle({ ...offered, id: 'not-a-uuid' }), { name: 'PermanentError' }, 'a malformed event is dead-lettered, not retried')
  t.equal(role.counters.created, 2)
})

t.test('10,000 trackers: one statement inserts every notification, and a redelivery none', async (t) => {
  // Counts the role's round trips to PostgreSQL: the fan-out must be one, whatever the audience.
  let statements = 0
  const counted = new Proxy(gw.pool, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown
      return (...args: Parameters<pg.Pool['query']>) => {
        statements++
        return (target.query as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  const { handle, notices } = inboxOn(counted)
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Many' } })
  await gw.pool.query(`WITH u AS (
      INSERT INTO users (email, name, role) SELECT 'fan' || g || '@example.com', 'Fan ' || g, 'customer' FROM generate_series(1, 10000) g RETURNING id)
    INSERT INTO user_trackings (user_id, package_id) SELECT id, $1 FROM u`, [pkg.id])
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'in_transit' })
  const event = await logged(pkg.trackingNumber, 'package.status_changed')

  await handle(event)
  t.equal(statements, 1, 'one statement for the whole fan-out')
  const { rows } = await gw.pool.query<{ n: number; users: number }>('SELECT count(*)::int AS n, count(DISTINCT user_id)::int AS users FROM notifications WHERE event_id = $1', [event.id])
  t.same(rows[0], { n: 10_000, users: 10_000 }, 'every tracker has exactly one')
  await settle()
  t.equal(notices.length, 10_000, 'each announced')

  // A worker killed after the insert, before the acknowledgement, gets the event again.
  await handle(event)
  t.equal(statements, 2, 'the redelivery is one statement too')
  const again = await gw.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE event_id = $1', [event.id])
  t.equal(again.rows[0]!.n, 10_000, 'nothing lost, nothing doubled')
  await settle()
  t.equal(notices.length, 10_000, 'nothing announced twice')
})
