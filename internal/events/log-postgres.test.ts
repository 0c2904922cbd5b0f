import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import { RECORDED_SINCE_SQL, SINCE_SQL } from './log-postgres.js'

// Gap fills look a package up by number once per call, so on a table of any size
// that must be an index lookup, not a read of every package.

t.test('the gap-fill lookup by tracking number uses an index', async (t) => {
  const { pool } = await isolate(t)
  // Enough packages, with fresh statistics, that the planner picks by cost as it would in production.
  await pool.query(
    `INSERT INTO packages (tracking_number, status, carrier, sender, recipient)
     SELECT 'DT' || lpad(g::text, 9, '0'), 'in_transit', 'dhl', '{"name": "s"}', '{"name": "r"}' FROM generate_series(1, 3000) g`,
  )
  await pool.query('ANALYZE packages')
  const client = await pool.connect()
  // The prepared statements stay with the connection: close it rather than hand it back.
  t.teardown(() => client.release(true))
  for (const [name, sql, args] of [['since', SINCE_SQL, `'DT000001234', 0`]] as const) {
    await client.query(`PREPARE ${name} AS ${sql}`)
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${name}(${args})`)
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
    t.notMatch(plan, /Seq Scan on packages/, `${name}: no sequential scan of packages`)
    t.match(plan, /packages_number_newest_idx/, `${name}: finds the number through packages_number_newest_idx`)
  }
})

// After a broker outage every gateway replays the events recorded since it lost the
// connection: a few minutes of a log that only grows, so that must not read all of it.
t.test('catch-up after a broker outage reads only the recent part of the event log', async (t) => {
  const { pool } = await isolate(t)
  await pool.query(
    `INSERT INTO packages (tracking_number, status, carrier, sender, recipient)
     SELECT 'DT' || lpad(g::text, 9, '0'), 'in_transit', 'dhl', '{"name": "s"}', '{"name": "r"}' FROM generate_series(1, 100) g`,
  )
  // 60,000 published events, one a second up to a fixed moment, appended in recorded_at order as the gateways write them.
  // The moment is read once, so the window below does not move with how long the inserts take.
  const anchor = (await pool.query<{ anchor: string }>('SELECT now()::text AS anchor')).rows[0]!.anchor
  await pool.query(
    `INSERT INTO package_events (id, package_id, seq, type, tracking_number, occurred_at, recorded_at, published_at, data)
     SELECT gen_random_uuid(), p.id, (g - 1) / 100 + 1, 'package.status_changed', p.tracking_number, at, at, at, '{"status": "in_transit", "previousStatus": "in_transit"}'
     FROM generate_series(1, 60000) g
     CROSS JOIN LATERAL (SELECT $1::timestamptz - make_interval(secs => 60000 - g) AS at) t
     JOIN LATERAL (SELECT id, tracking_number FROM packages ORDER BY tracking_number OFFSET (g - 1) % 100 LIMIT 1) p ON true`,
    [anchor],
  )
  const fiveMinutesBefore = `'${anchor}'::timestamptz - interval '5 minutes'`
  // What autovacuum does on a live table: summarize the page ranges and gather statistics.
  await pool.query('VACUUM ANALYZE package_events')
  const client = await pool.connect()
  t.teardown(() => client.release(true))
  await client.query(`PREPARE recorded_since AS ${RECORDED_SINCE_SQL}`)
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE recorded_since(${fiveMinutesBefore}, 100000)`)
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
  t.notMatch(plan, /Seq Scan on package_events/, 'no sequential scan of the event log')
  t.match(plan, /package_events_recorded_brin/, 'the range comes from package_events_recorded_brin')
  const replayed = await client.query(`EXECUTE recorded_since(${fiveMinutesBefore}, 100000)`)
  // One event a second, both ends included: 301 of the 60,000.
  t.equal(replayed.rows.length, 301, "the last 5 minutes' events, not the log")
})
