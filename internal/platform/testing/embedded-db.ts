import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readFile, rename, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
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
 * A fresh, unmigrated PGlite data directory, removed at teardown. Copied from a
 * template that PGlite initialised once per PGlite version and machine (initdb is
 * the slow part of a first start); each test still applies the migrations itself.
 */
export async function embeddedDataDir(t: TestLike): Promise<string> {
  const template = await templateDir()
  const parent = await mkdtemp(join(tmpdir(), 'dt-pglite-'))
  t.teardown(() => rm(parent, { recursive: true, force: true }))
  const dataDir = join(parent, 'postgres')
  await cp(template, dataDir, { recursive: true })
  return dataDir
}

let template: Promise<string> | undefined

function templateDir(): Promise<string> {
  template ??= (async () => {
    const dir = join(tmpdir(), `delivertrack-pglite-template-${await pgliteVersion()}`)
    if (existsSync(join(dir, 'PG_VERSION'))) return dir
    // Built aside and renamed into place, so test files starting together never see half a template.
    const building = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`
    const db = await PGlite.create({ dataDir: building })
    await db.close()
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

async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
  const { version } = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
  return version
}
