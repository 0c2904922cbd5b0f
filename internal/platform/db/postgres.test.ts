import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { emptySchema } from '../testing/harness.js'
import { serviceUrls } from '../testing/services.js'
import { createPool, isUniqueViolation, withTx } from './postgres.js'

// The pool the gateway and workers share, against the real PostgreSQL.

t.test('a server-side disconnect of an idle connection does not crash the process', async (t) => {
  const { databaseUrl } = await serviceUrls()
  const applicationName = `dt-test-${randomBytes(4).toString('hex')}`
  const pool = createPool({ url: databaseUrl, max: 2, applicationName })
  const admin = createPool({ url: databaseUrl, max: 1 })
  t.teardown(async () => {
    await pool.end()
    await admin.end()
  })
  await pool.query('SELECT 1')
  t.equal(pool.idleCount, 1, 'one idle connection in the pool')

  // What a PostgreSQL restart or failover does to every idle connection.
  const { rows } = await admin.query<{ ok: boolean }>(
    'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  )
  t.same(rows, [{ ok: true }])
  for (let i = 0; i < 500 && pool.totalCount > 0; i++) await sleep(10)
  t.equal(pool.totalCount, 0, 'the broken connection was dropped from the pool')

  const again = await pool.query<{ one: number }>('SELECT 1 AS one')
  t.same(again.rows, [{ one: 1 }], 'the next query reconnects')
})

t.test('withTx commits on success and rolls back on failure', async (t) => {
  const pool = (await emptySchema(t, 'test_tx')).pool()
  await pool.query('CREATE TABLE items (id int PRIMARY KEY)')

  t.equal(await withTx(pool, async (tx) => (await tx.query('INSERT INTO items VALUES (1)')).rowCount), 1)
  const err = await withTx(pool, async (tx) => {
    await tx.query('INSERT INTO items VALUES (2)')
    await tx.query('INSERT INTO items VALUES (1)')
  }).catch((e: unknown) => e)
  t.ok(isUniqueViolation(err), 'the unique violation reaches the caller')
  t.ok(isUniqueViolation(err, 'items_pkey'), 'with its constraint')
  t.notOk(isUniqueViolation(err, 'other_key'))
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM items ORDER BY id')
  t.same(rows, [{ id: 1 }], 'the failed transaction left nothing behind')
  t.equal(pool.idleCount, pool.totalCount, 'every connection went back to the pool')
})

t.test('bigint counts come back as numbers', async (t) => {
  const { databaseUrl } = await serviceUrls()
  const pool = createPool({ url: databaseUrl, max: 1 })
  t.teardown(() => pool.end())
  const { rows } = await pool.query<{ n: unknown }>('SELECT count(*) AS n FROM (VALUES (1), (2)) v')
  t.equal(rows[0]!.n, 2)
})
