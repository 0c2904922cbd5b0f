import t from 'tap'
import { elapseRedisKeys } from '../platform/testing/redis-clock.js'
import { isolate } from '../platform/testing/harness.js'
import { cachedPackage, packageCacheContract } from './cache-contract.js'
import { RedisPackageCache } from './cache-redis.js'

t.test('RedisPackageCache', async (t) => {
  const iso = await isolate(t)

  t.test('package cache contract on Redis', async (t) => {
    packageCacheContract(t, async (_t, ttlSeconds) => ({
      cache: new RedisPackageCache(iso.redis, ttlSeconds),
      elapse: (ms) => elapseRedisKeys(iso.urls.redisUrl, iso.keyPrefix, ms),
    }))
  })

  t.test('a generation expires once no load can still be waiting on it, so Redis does not keep one per number forever', async (t) => {
    const cache = new RedisPackageCache(iso.redis, 120)
    await cache.setPackage(cachedPackage('GENTTL000001', 1), await cache.generation('GENTTL000001'))
    await cache.invalidate(['GENTTL000001'])
    const left = await iso.redis.ttl('pkg-gen:GENTTL000001')
    t.ok(left > 120 && left <= 240, `the generation lives two TTLs (${left} s left)`)
  })
})
