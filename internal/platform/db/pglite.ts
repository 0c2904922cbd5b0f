import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { cube } from '@electric-sql/pglite/contrib/cube'
import { earthdistance } from '@electric-sql/pglite/contrib/earthdistance'
import { createPgConfig } from '@electric-sql/pglite/node-postgres'
import pg from 'pg'
import { StartupError } from '../startup.js'
import { lockDirectory } from './dir-lock.js'
import './postgres.js' // the INT8 type parser every pool relies on

export interface EmbeddedDatabaseOptions {
  /** The PostgreSQL data directory (created when missing), e.g. DATA_DIR/postgres. */
  dataDir: string
  /** Session settings for every connection, as createPool's `settings`. */
  settings?: Record<string, string>
  /** Told when the connection fails while idle (the pool recovers, as createPool's does). */
  log?: { warn(obj: object, msg: string): void }
}

export interface EmbeddedDatabase {
  /** One connection: PGlite is a single backend, so the pool hands it to one client at a time. */
  pool: pg.Pool
  /** Ends the pool, then closes PGlite (flushing to disk) and releases the directory. Idempotent. */
  close(): Promise<void>
}

// Run when the pool opens a connection, i.e. after the previous one was dropped (a
// failed query or release(err) drops it). A server would end that session; PGlite's
// single backend keeps it, with any open transaction, advisory lock and prepared
// statement, so the new client starts by ending them.
const RESET_SESSION = 'ROLLBACK; DEALLOCATE ALL; SELECT pg_advisory_unlock_all(); RESET ALL'

/**
 * PostgreSQL in process (PGlite) with the extensions the migrations need, behind an
 * ordinary pg.Pool, so the PostgreSQL adapters and migrate() run on it unchanged.
 * Not reachable from other processes, and one process at a time per directory.
 */
export async function openEmbeddedDatabase(opts: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const { dataDir } = opts
  const settings = Object.entries(opts.settings ?? {})
  try {
    await mkdir(dataDir, { recursive: true })
  } catch (err) {
    throw new StartupError(`cannot create the embedded database directory ${dataDir}: ${(err as Error).message}`, { cause: err })
  }
  const lock = await lockDirectory(dataDir, 'the embedded database')
  let db: PGlite
  try {
    db = await PGlite.create({ dataDir, extensions: { cube, earthdistance } })
  } catch (err) {
    await lock.release()
    throw new StartupError(`cannot open the embedded database in ${dataDir}: ${(err as Error).message}`, { cause: err })
  }
  // The bridge's config shares one connection object among clients, and a dropped
  // client's late 'end' reaches its successor; each client gets its own instead.
  class EmbeddedClient extends pg.Client {
    constructor(config: pg.ClientConfig) {
      super({ ...config, connection: createPgConfig(db).connection } as pg.ClientConfig)
    }
  }
  const { user, database } = createPgConfig(db)
  const pool = new pg.Pool({
    user,
    database,
    max: 1,
    // An idle in-process session costs nothing; keeping it spares a reset.
    idleTimeoutMillis: 0,
    // As createPool: a connection held too long (a stuck transaction) fails requests instead of hanging them.
    connectionTimeoutMillis: 5_000,
    Client: EmbeddedClient as unknown as new () => pg.ClientBase,
    onConnect: async (client) => {
      await client.query(RESET_SESSION)
      if (settings.length) {
        await client.query('SELECT set_config(name, value, false) FROM unnest($1::text[], $2::text[]) AS s(name, value)', [
          settings.map(([name]) => name),
          settings.map(([, value]) => value),
        ])
      }
    },
  })
  pool.on('error', (err) => opts.log?.warn({ err }, 'embedded database connection failed'))
  let closing: Promise<void> | undefined
  return {
    pool,
    close() {
      closing ??= (async () => {
        try {
          await pool.end()
          await db.close()
        } finally {
          await lock.release()
        }
      })()
      return closing
    },
  }
}
