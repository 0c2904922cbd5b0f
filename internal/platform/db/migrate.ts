import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))

export interface MigrationResult {
  applied: string[]
  current: number
}

/**
 * Applies the numbered SQL files in migrations/ that the database has not seen, each
 * in its own transaction, while holding a session advisory lock: two gateways
 * starting together wait for each other instead of racing. Idempotent.
 */
export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = await migrationFiles(dir)
  const client = await pool.connect()
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('delivertrack.migrate.' || current_schema()))`)
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
    const done = new Set(rows.map((r) => r.version))
    const applied: string[] = []
    for (const file of files) {
      const version = Number.parseInt(file.slice(0, 4), 10)
      if (done.has(version)) continue
      const sql = await readFile(`${dir}/${file}`, 'utf8')
      await client.query('BEGIN')
      try {
        await client.query(sql)
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, file])
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK')
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err })
      }
      applied.push(file)
    }
    const current = Math.max(0, ...files.map((f) => Number.parseInt(f.slice(0, 4), 10)))
    return { applied, current }
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext('delivertrack.migrate.' || current_schema()))`).catch(() => undefined)
    client.release()
  }
}

async function migrationFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort()
}

/**
 * The shipped migrations the database has not recorded yet (all of them before the
 * first run), without taking the lock or changing anything: a process that must not
 * start on an older schema waits until this is empty. Versions the database has
 * beyond these (a newer image migrated it) do not count.
 */
export async function pendingMigrations(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = await migrationFiles(dir)
  const { rows: table } = await pool.query<{ found: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS found`)
  if (!table[0]!.found) return files
  const { rows } = await pool.query<{ version: number }>('SELECT version FROM schema_migrations')
  const done = new Set(rows.map((r) => r.version))
  return files.filter((f) => !done.has(Number.parseInt(f.slice(0, 4), 10)))
}
