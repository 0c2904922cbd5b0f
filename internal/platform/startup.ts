import { addressOf, type Config } from '../config/config.js'
import { createPool } from './db/postgres.js'
import { createRedis } from './cache/redis.js'

/** A start-up failure whose message is meant for the person starting the service. */
export class StartupError extends Error {
  readonly startup = true
}

export async function connectPostgres(config: Config, settings?: Record<string, string>) {
  const pool = createPool({ url: config.DATABASE_URL, max: config.DATABASE_POOL_MAX, settings })
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    await pool.end().catch(() => undefined)
    // The server answered: the database or the login is what is wrong, not the server's state.
    const code = (err as { code?: unknown }).code
    if (code === '3D000' || code === '28000' || code === '28P01') {
      const url = new URL(config.DATABASE_URL)
      const db = decodeURIComponent(url.pathname.slice(1)) || '(the default database)'
      throw new StartupError(
        code === '3D000'
          ? `PostgreSQL at ${addressOf(config.DATABASE_URL)} has no database "${db}" (3D000). ` +
              `Create it (\`createdb -h ${url.hostname} -U ${decodeURIComponent(url.username) || 'postgres'} ${db}\`) or point DATABASE_URL at an existing one.`
          : `PostgreSQL at ${addressOf(config.DATABASE_URL)} refused the login of user "${decodeURIComponent(url.username)}" to "${db}" (${code}). ` +
              'Check the user and password in DATABASE_URL, and pg_hba.conf.',
      )
    }
    throw new StartupError(
      `PostgreSQL is unreachable at ${addressOf(config.DATABASE_URL)} (${describe(err)}). ` +
        'Start it (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or `docker compose up -d postgres`) ' +
        'or point DATABASE_URL at a running server.',
    )
  }
  return pool
}

export async function connectRedis(config: Config) {
  const redis = createRedis({ url: config.REDIS_URL })
  // Later errors are reported by readiness and by the callers that fall back. The
  // first one is kept: connect() itself only rejects with "Connection is closed."
  let cause: unknown
  redis.on('error', (err: unknown) => {
    cause ??= err
  })
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw new StartupError(
      `Redis is unreachable at ${addressOf(config.REDIS_URL)} (${describe(cause ?? err)}). ` +
        'Start it (`redis-server --daemonize yes`, or `docker compose up -d redis`) or point REDIS_URL at a running server.',
    )
  }
  return redis
}

/** Connects to every dependency the gateway cannot start without, naming the one that is missing. */
export async function connectDependencies(config: Config, settings?: Record<string, string>) {
  const pool = await connectPostgres(config, settings)
  try {
    const redis = await connectRedis(config)
    return { pool, redis }
  } catch (err) {
    await pool.end()
    throw err
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: Array<{ code?: string }> }
  return e.code ?? e.errors?.[0]?.code ?? e.message ?? 'unknown error'
}
