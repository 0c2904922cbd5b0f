import { spawnSync } from 'node:child_process'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { embeddedDataDir, emptyDataDir } from '../testing/embedded-db.js'
import { StartupError } from '../startup.js'
import { migrate } from './migrate.js'
import { openEmbeddedDatabase } from './pglite.js'
import { isUniqueViolation } from './postgres.js'

// PostgreSQL in process: the embedded mode's database, opened as the gateway opens it.

const SHIPPED = (await readdir(fileURLToPath(new URL('./migrations/', import.meta.url)))).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort()

t.test('a first start creates the database; its migrations and data survive a reopen', async (t) => {
  const dataDir = await emptyDataDir(t)
  const first = await openEmbeddedDatabase({ dataDir })
  t.teardown(() => first.close())
  t.same((await migrate(first.pool)).applied, SHIPPED, 'every shipped migration applies')
  await first.pool.query(`INSERT INTO packages (tracking_number, status, carrier, sender, recipient) VALUES ('KEEP00001', 'pending', 'test', '{"name":"s"}', '{"name":"r"}')`)
  await first.close()

  const again = await openEmbeddedDatabase({ dataDir })
  t.teardown(() => again.close())
  t.same((await migrate(again.pool)).applied, [], 'nothing to apply the second time')
  const { rows } = await again.pool.query<{ tracking_number: string }>('SELECT tracking_number FROM packages')
  t.same(rows, [{ tracking_number: 'KEEP00001' }])
  const near = await again.pool.query<{ d: number }>('SELECT public.earth_distance(public.ll_to_earth(0, 0), public.ll_to_earth(0, 1)) AS d')
  t.ok(Math.abs(near.rows[0]!.d - 111_320) < 1, `earthdistance computes: ${near.rows[0]!.d} m for a degree along the equator, as on the server`)
})

t.test('one process at a time per directory', async (t) => {
  const dataDir = await embeddedDataDir(t)
  const lockFile = join(dataDir, 'delivertrack.lock')
  const open = await openEmbeddedDatabase({ dataDir })
  t.teardown(() => open.close())
  const second = await openEmbeddedDatabase({ dataDir }).catch((e: unknown) => e)
  t.ok(second instanceof StartupError, 'a start-up error')
  t.match((second as Error).message, dataDir, 'naming the directory')
  await open.close()

  // What another gateway, still running, leaves behind.
  await writeFile(lockFile, `${process.ppid}\n`)
  const busy = await openEmbeddedDatabase({ dataDir }).catch((e: unknown) => e)
  t.ok(busy instanceof StartupError)
  t.match((busy as Error).message, `in use by process ${process.ppid}`)
  t.match((busy as Error).message, lockFile, 'names the lock file to delete if it is wrong')

  // What a gateway that crashed leaves behind.
  const dead = spawnSync(process.execPath, ['-e', '']).pid
  await writeFile(lockFile, `${dead}\n`)
  const taken = await openEmbeddedDatabase({ dataDir })
  t.teardown(() => taken.close())
  t.same((await taken.pool.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'a stale lock is taken over')
})

t.test('a directory that cannot be created is a start-up error naming it', async (t) => {
  const parent = await embeddedDataDir(t)
  const dataDir = join(parent, 'PG_VERSION', 'postgres') // under a regular file
  const err = await openEmbeddedDatabase({ dataDir }).catch((e: unknown) => e)
  t.ok(err instanceof StartupError)
  t.match((err as Error).message, dataDir)
})

t.test('a failed statement or a dropped client leaves nothing to the next one', async (t) => {
  const dataDir = await embeddedDataDir(t)
  const db = await openEmbeddedDatabase({ dataDir, settings: { 'delivertrack.mark': 'set' } })
  t.teardown(() => db.close())
  await db.pool.query('CREATE TABLE items (id int PRIMARY KEY)')
  await db.pool.query('INSERT INTO items VALUES (1)')
  const named = { name: 'count_items', text: 'SELECT count(*) AS n FROM items' }
  let failed = 0
  for (let i = 0; i < 20; i++) {
    // pg drops the connection after a failed query; the next request must not notice.
    const err = await db.pool.query('INSERT INTO items VALUES (1)').catch((e: unknown) => e)
    if (!isUniqueViolation(err)) failed++
    const { rows } = await db.pool.query<{ n: number }>(named)
    if (rows[0]!.n !== 1) failed++
  }
  t.equal(failed, 0, 'every duplicate was refused and every next query answered')

  const client = await db.pool.connect()
  await client.query('BEGIN')
  await client.query('INSERT INTO items VALUES (2)')
  await client.query('SELECT pg_advisory_lock(42)')
  client.release(new Error('gave up'))
  const { rows } = await db.pool.query<{ tx: string | null; locks: number; n: number; mark: string }>(
    `SELECT pg_current_xact_id_if_assigned()::text AS tx, (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory') AS locks,
            (SELECT count(*) FROM items) AS n, current_setting('delivertrack.mark') AS mark`,
  )
  t.same(rows, [{ tx: null, locks: 0, n: 1, mark: 'set' }], 'its transaction rolled back, its lock released, the settings still apply')
  t.same((await db.pool.query(named)).rows, [{ n: 1 }], 'a statement it had prepared can be prepared again')
})
