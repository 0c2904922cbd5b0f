import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import { SINCE_SQL, TRACKERS_SQL } from './postgres.js'

// Gap fills and user routing look a package up by number once per call, so on a
// table of any size that must be an index lookup, not a read of every package.

t.test('the real-time lookups by tracking number use an index', async (t) => {
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
  for (const [name, sql, args] of [
    ['since', SINCE_SQL, `'DT000001234', 0`],
    ['trackers', TRACKERS_SQL, `'DT000001234'`],
  ] as const) {
    await client.query(`PREPARE ${name} AS ${sql}`)
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${name}(${args})`)
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
    t.notMatch(plan, /Seq Scan on packages/, `${name}: no sequential scan of packages`)
    t.match(plan, /packages_number_newest_idx/, `${name}: finds the number through packages_number_newest_idx`)
  }
})
