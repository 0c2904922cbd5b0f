import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import { AUDIENCE_SQL, TRACKERS_SQL } from './tracking-list-postgres.js'

// User-channel routing looks a package's audience up by number for every event, so
// on tables of any size that must be index lookups, not reads of every row.
t.test('the trackers and audience lookups by tracking number use indexes', async (t) => {
  const { pool } = await isolate(t)
  await pool.query(
    `INSERT INTO packages (tracking_number, status, carrier, sender, recipient)
     SELECT 'DT' || lpad(g::text, 9, '0'), 'in_transit', 'dhl', '{"name": "s"}', '{"name": "r"}' FROM generate_series(1, 3000) g`,
  )
  await pool.query('ANALYZE packages')
  const client = await pool.connect()
  // The prepared statement stays with the connection: close it rather than hand it back.
  t.teardown(() => client.release(true))
  await pool.query(`INSERT INTO users (email, name, role) SELECT 'u' || g || '@example.com', 'u', 'customer' FROM generate_series(1, 3000) g`)
  await pool.query(`INSERT INTO user_trackings (user_id, package_id) SELECT u.id, p.id FROM users u JOIN packages p ON p.tracking_number = 'DT' || lpad(substr(u.email, 2, strpos(u.email, '@') - 2), 9, '0')`)
  await pool.query(`UPDATE packages SET customer_id = (SELECT id FROM users LIMIT 1) WHERE tracking_number = 'DT000001234'`)
  await pool.query('ANALYZE')
  for (const [name, sql] of [['trackers', TRACKERS_SQL], ['audience', AUDIENCE_SQL]] as const) {
    await client.query(`PREPARE ${name} AS ${sql}`)
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${name}('DT000001234')`)
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
    t.notMatch(plan, /Seq Scan/, `${name}: no sequential scan`)
    t.match(plan, /packages_number_newest_idx/, `${name}: finds the number through packages_number_newest_idx`)
  }
})
