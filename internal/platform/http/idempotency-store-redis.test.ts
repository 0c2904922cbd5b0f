import t from 'tap'
import { isolate } from '../testing/harness.js'
import { elapseRedisKeys } from '../testing/redis-clock.js'
import { idempotencyStoreContract } from './idempotency-store-contract.js'
import { RedisIdempotencyStore } from './idempotency-store-redis.js'

t.test('idempotency store contract on Redis', async (t) => {
  idempotencyStoreContract(t, async (t) => {
    const iso = await isolate(t)
    return { store: new RedisIdempotencyStore(iso.redis), elapse: (ms) => elapseRedisKeys(iso.urls.redisUrl, iso.keyPrefix, ms) }
  })
})
