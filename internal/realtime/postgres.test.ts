import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import { SINCE_SQL, TRACKERS_SQL } from './postgres.js'

// Gap fills and user routing look a package up by number once per call. On a real
// table that must be an index lookup, not a read of every package. The test table is
// small, where a sequential scan can be the planner's honest choice, so sequential
// scans are switched off: the plan falls back to one only if no index can serve it.

t.test('the real-time lookups by tracking number use an index', async (t) => {
  const { pool } = await isolate(t)
  const client = await pool.connect()
  t.teardown(() => client.release())
  await client.query('BEGIN')
  try {
    await client.query('SET LOCAL enable_seqscan = off')
    for (const [name, sql, args] of [
      ['since', SINCE_SQL, `'DT000000001', 0`],
      ['trackers', TRACKERS_SQL, `'DT000000001'`],
    ] as const) {
      await client.query(`PREPARE ${name} AS ${sql}`)
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${name}(${args})`)
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
      t.notMatch(plan, /Seq Scan on packages/, `${name}: no sequential scan of packages`)
      t.match(plan, /packages_number_newest_idx/, `${name}: finds the number through packages_number_newest_idx`)
    }
  } finally {
    await client.query('ROLLBACK')
  }
})
