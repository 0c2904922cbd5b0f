import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import { elapseRedisKeys } from '../platform/testing/redis-clock.js'
import { loginAttemptsContract } from './login-attempts-contract.js'
import { RedisLoginAttemptStore } from './login-attempts-redis.js'

t.test('login attempt store contract on Redis', async (t) => {
  loginAttemptsContract(t, async (t) => {
    const iso = await isolate(t)
    return { store: new RedisLoginAttemptStore(iso.redis), elapse: (ms) => elapseRedisKeys(iso.urls.redisUrl, iso.keyPrefix, ms) }
  })
})
