import pg from 'pg'

export type Pool = pg.Pool
export type PoolClient = pg.PoolClient
/** Anything that can run a query: the pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>

// timestamptz and bigint come back as strings we convert where needed; int8 counts fit in a JS number here.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10))

export interface PoolOptions {
  url: string
  max?: number
  /** Search path for every connection (tests give each file its own schema). */
  schema?: string
  applicationName?: string
  /** Session settings for every connection (`-c name=value`), e.g. custom `delivertrack.*` settings. */
  settings?: Record<string, string>
  /** Called when an idle connection fails (e.g. to log it); the pool recovers on its own. */
  onIdleError?: (err: Error) => void
}

export function createPool(opts: PoolOptions): pg.Pool {
  const settings = { ...(opts.schema ? { search_path: opts.schema } : {}), ...opts.settings }
  const options = Object.entries(settings).map(([name, value]) => {
    if (!/^[\w.]+$/.test(name) || !/^[\w.,-]+$/.test(value)) throw new Error(`unsupported session setting ${name}=${value}`)
    return `-c ${name}=${value}`
  })
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 20,
    application_name: opts.applicationName ?? 'delivertrack',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    ...(options.length ? { options: options.join(' ') } : {}),
  })
  // An idle connection the server drops (restart, failover) is emitted as 'error';
  // unhandled, that would kill the process. The pool discards the client and the
  // next query reconnects; readiness reports the outage meanwhile.
  pool.on('error', opts.onIdleError ?? (() => undefined))
  return pool
}

/**
 * Runs fn inside one transaction on one connection: commit when it resolves,
 * roll back when it throws. The caller never sees a half-written state.
 */
export async function withTx<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T>
/** With `synchronousCommit: false` the commit does not wait for the WAL flush (for work a crash may repeat). */
export async function withTx<T>(pool: pg.Pool, opts: { synchronousCommit: false }, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T>
export async function withTx<T>(
  pool: pg.Pool,
  optsOrFn: { synchronousCommit: false } | ((tx: pg.PoolClient) => Promise<T>),
  maybeFn?: (tx: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const fn = typeof optsOrFn === 'function' ? optsOrFn : maybeFn!
  const client = await pool.connect()
  try {
    // One round trip either way: the SET LOCAL rides along with BEGIN.
    await client.query(typeof optsOrFn === 'function' ? 'BEGIN' : 'BEGIN; SET LOCAL synchronous_commit = off')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string }
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint)
}
