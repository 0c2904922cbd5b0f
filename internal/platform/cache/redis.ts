import { Redis } from 'ioredis'

export type { Redis }

export interface RedisOptions {
  url: string
  /** Prepended to every key (tests give each file its own prefix). */
  keyPrefix?: string
}

/**
 * A Redis client that fails fast instead of queueing while Redis is away, so
 * callers can fall back (cache-aside reads go to PostgreSQL) rather than hang.
 * It keeps reconnecting in the background.
 */
export function createRedis(opts: RedisOptions): Redis {
  return new Redis(opts.url, {
    keyPrefix: opts.keyPrefix,
    lazyConnect: true,
    // Commands issued in the same event-loop turn (the rate limit, the cache read,
    // other requests' commands) go out in one write and come back in one read.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  })
}

export function redisReady(redis: Redis): boolean {
  return redis.status === 'ready'
}
