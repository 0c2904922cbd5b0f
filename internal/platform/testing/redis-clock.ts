import { createRedis } from '../cache/redis.js'

/**
 * Lets `ms` pass for the keys under `keyPrefix` on the real Redis without waiting:
 * each key's time to live drops by `ms`, and a key whose time runs out is deleted,
 * as Redis would have done by then. Keys without a TTL stay. Expiry tests of Redis
 * adapters call this where their memory siblings advance a manual clock.
 */
export async function elapseRedisKeys(redisUrl: string, keyPrefix: string, ms: number): Promise<void> {
  // Scanned keys come back whole; a client without a prefix addresses them as they are.
  const redis = createRedis({ url: redisUrl })
  await redis.connect()
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500)
      for (const key of keys) {
        const left = await redis.pttl(key)
        if (left < 0) continue
        if (left <= ms) await redis.del(key)
        else await redis.pexpire(key, left - ms)
      }
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
