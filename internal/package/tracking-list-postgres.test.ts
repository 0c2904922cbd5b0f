import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import { TRACKERS_SQL } from './tracking-list-postgres.js'

// User-channel routing looks a package up by number for every event, so on a table
// of any size that must be an index lookup, not a read of every package.
t.test('the trackers lookup by tracking number uses an index', async (t) => {
  const { pool } = await isolate(t)
  await pool.query(
    `INSERT INTO packages (tracking_number, status, carrier, sender, recipient)
     SELECT 'DT' || lpad(g::text, 9, '0'), 'in_transit', 'dhl', '{"name": "s"}', '{"name": "r"}' FROM generate_series(1, 3000) g`,
  )
  await pool.query('ANALYZE packages')
  const client = await pool.connect()
  // The prepared statement stays with the connection: close it rather than hand it back.
  t.teardown(() => client.release(true))
  await client.query(`PREPARE trackers AS ${TRACKERS_SQL}`)
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE trackers('DT000001234')`)
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
  t.notMatch(plan, /Seq Scan on packages/, 'no sequential scan of packages')
  t.match(plan, /packages_number_newest_idx/, 'finds the number through packages_number_newest_idx')
})
