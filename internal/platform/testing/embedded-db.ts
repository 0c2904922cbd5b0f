import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'
import { migrate } from '../db/migrate.js'
import { openEmbeddedDatabase, type EmbeddedDatabase } from '../db/pglite.js'
import type { TestLike } from './harness.js'

export interface EmbeddedIsolation {
  pool: pg.Pool
  /** The data directory, e.g. to open it again after close(). */
  dataDir: string
  db: EmbeddedDatabase
}

/**
 * A migrated PGlite database of the test's own in a fresh temporary directory,
 * closed and removed at teardown: what isolate(t) is to the PostgreSQL server.
 */
export async function isolateEmbedded(t: TestLike): Promise<EmbeddedIsolation> {
  const dataDir = await embeddedDataDir(t)
  const db = await openEmbeddedDatabase({ dataDir })
  t.teardown(() => db.close())
  await migrate(db.pool)
  return { pool: db.pool, dataDir, db }
}

/**
 * A fresh PGlite data directory with the current migrations applied, removed at
 * teardown. Copied from a template built once per PGlite version and set of
 * migrations on this machine: initdb and the migrations' commits are most of a
 * first start.
 */
export async function embeddedDataDir(t: TestLike): Promise<string> {
  const template = await templateDir()
  const dataDir = await emptyDataDir(t)
  await cp(template, dataDir, { recursive: true })
  return dataDir
}

/** A path for a data directory that does not exist yet (a first start), removed at teardown. */
export async function emptyDataDir(t: TestLike): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'dt-pglite-'))
  t.teardown(() => rm(parent, { recursive: true, force: true }))
  return join(parent, 'postgres')
}

let template: Promise<string> | undefined

function templateDir(): Promise<string> {
  template ??= (async () => {
    const dir = join(tmpdir(), `delivertrack-pglite-template-${await templateKey()}`)
    if (existsSync(join(dir, 'PG_VERSION'))) return dir
    // Built aside and renamed into place, so test files starting together never copy half a template.
    const building = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`
    const db = await openEmbeddedDatabase({ dataDir: building })
    try {
      await migrate(db.pool)
    } finally {
      await db.close()
    }
    try {
      await rename(building, dir)
    } catch (err) {
      // Another test file finished first; its template is as good as ours.
      await rm(building, { recursive: true, force: true })
      if (!existsSync(join(dir, 'PG_VERSION'))) throw err
    }
    return dir
  })()
  return template
}

/** The PGlite version and a digest of the migration files: a change to either builds a new template. */
async function templateKey(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
  const { version } = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
  const migrations = fileURLToPath(new URL('../db/migrations/', import.meta.url))
  const hash = createHash('sha256')
  for (const file of (await readdir(migrations)).sort()) hash.update(file).update('\0').update(await readFile(join(migrations, file))).update('\0')
  return `${version}-${hash.digest('hex').slice(0, 12)}`
}
