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

/**
 * Connects to every dependency the gateway cannot start without, both at once. When
 * either fails, the error names every one that failed, and the other is closed.
 */
export async function connectDependencies(config: Config, settings?: Record<string, string>) {
  const [pool, redis] = await Promise.allSettled([connectPostgres(config, settings), connectRedis(config)])
  if (pool.status === 'fulfilled' && redis.status === 'fulfilled') return { pool: pool.value, redis: redis.value }
  if (pool.status === 'fulfilled') await pool.value.end()
  if (redis.status === 'fulfilled') redis.value.disconnect()
  const failed = [pool, redis].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
  if (failed.length === 1) throw failed[0]
  throw new StartupError(failed.map((err) => (err as Error).message).join(' '))
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: Array<{ code?: string }> }
  return e.code ?? e.errors?.[0]?.code ?? e.message ?? 'unknown error'
}
