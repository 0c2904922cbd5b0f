import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import type pg from 'pg'
import { emptySchema } from '../testing/harness.js'
import { migrate, pendingMigrations } from './migrate.js'

// Migrations on a fresh, unmigrated schema of the test's own.

// The shipped migrations, whatever they are by now; 0001 is always the first.
const SHIPPED = (await readdir(fileURLToPath(new URL('./migrations/', import.meta.url)))).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort()
const LATEST = Number.parseInt(SHIPPED.at(-1)!.slice(0, 4), 10)

const freshSchema = (t: Test) => emptySchema(t, 'test_mig')

async function tables(pool: pg.Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  )
  return rows.map((r) => r.table_name)
}

t.test('a fresh schema gets 0001, and a second run applies nothing', async (t) => {
  const { schema, pool: newPool } = await freshSchema(t)
  const pool = newPool()
  const first = await migrate(pool)
  t.equal(first.applied[0], '0001_init.sql', '0001 comes first')
  t.same(first.applied, SHIPPED, 'every shipped migration, in order')
  t.equal(first.current, LATEST)
  const names = await tables(pool, schema)
  for (const table of ['schema_migrations', 'users', 'refresh_tokens', 'service_clients', 'packages', 'package_events', 'user_trackings']) {
    t.ok(names.includes(table), `${table} exists in the schema`)
  }
  const second = await migrate(pool)
  t.same(second.applied, [], 'idempotent')
  t.equal(second.current, LATEST)
  const { rows } = await pool.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')
  t.same(rows, SHIPPED.map((name) => ({ version: Number.parseInt(name.slice(0, 4), 10), name })))
  t.same(await tables(pool, schema), names, 'nothing new was created')
})

t.test('two concurrent migrations of one schema both succeed and apply once', async (t) => {
  const { schema, pool: newPool } = await freshSchema(t)
  const a = newPool()
  const b = newPool()
  const [ra, rb] = await Promise.all([migrate(a), migrate(b)])
  t.same([...ra.applied, ...rb.applied].sort(), SHIPPED, 'each migration applied by exactly one of them')
  t.ok(ra.applied.length === 0 || rb.applied.length === 0, 'the second waited for the first and found nothing to do')
  t.equal(ra.current, LATEST)
  t.equal(rb.current, LATEST)
  const { rows } = await a.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations')
  t.equal(rows[0]!.n, SHIPPED.length)
  const names = await tables(a, schema)
  t.equal(names.filter((n) => n === 'packages').length, 1)
  t.equal(new Set(names).size, names.length, 'no table twice')
})

t.test('schemas migrate independently', async (t) => {
  const one = await freshSchema(t)
  const two = await freshSchema(t)
  const [r1, r2] = await Promise.all([migrate(one.pool()), migrate(two.pool())])
  t.same(r1.applied, SHIPPED)
  t.same(r2.applied, SHIPPED)
})

t.test('a failing migration rolls back, names the file, and releases the lock', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dt-migrations-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, '0001_first.sql'), 'CREATE TABLE first_table (id int PRIMARY KEY);')
  await writeFile(join(dir, '0002_broken.sql'), 'CREATE TABLE second_table (id int PRIMARY KEY); THIS IS NOT SQL;')
  await writeFile(join(dir, 'README.md'), 'not a migration')
  const { schema, pool: newPool } = await freshSchema(t)
  const pool = newPool()
  await t.rejects(migrate(pool, dir), /0002_broken\.sql/)
  const names = await tables(pool, schema)
  t.ok(names.includes('first_table'), '0001 stays applied')
  t.notOk(names.includes('second_table'), '0002 rolled back as a whole')
  const { rows } = await pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
  t.same(rows.map((r) => r.version), [1])

  await writeFile(join(dir, '0002_broken.sql'), 'CREATE TABLE second_table (id int PRIMARY KEY);')
  const other = newPool()
  const fixed = await migrate(other, dir)
  t.same(fixed.applied, ['0002_broken.sql'], 'another connection can take the lock afterwards')
  t.equal(fixed.current, 2)
})

t.test('pendingMigrations lists what the database lacks, without changing it', async (t) => {
  const { schema, pool: newPool } = await freshSchema(t)
  const pool = newPool()
  t.same(await pendingMigrations(pool), SHIPPED, 'every shipped migration before the first run')
  t.same(await tables(pool, schema), [], 'and it created nothing, not even schema_migrations')
  await migrate(pool)
  t.same(await pendingMigrations(pool), [], 'none once migrated')

  const dir = await mkdtemp(join(tmpdir(), 'dt-migrations-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, '0001_init.sql'), 'SELECT 1;')
  await writeFile(join(dir, '9999_next.sql'), 'SELECT 1;')
  t.same(await pendingMigrations(pool, dir), ['9999_next.sql'], 'a newer build\'s migration is pending; versions beyond the build do not count')
})
