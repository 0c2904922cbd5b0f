import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { Redis } from 'ioredis'
import { isolate } from '../testing/harness.js'
import { countRequest, rateLimitStoreContract, sendRequests } from './rate-limit-store-contract.js'
import { leasedRedisStore } from './rate-limit-store-redis.js'

// The rate-limit counter taken from Redis in blocks, against the real Redis. Besides
// the contract, what an operator notices: a busy caller costs few Redis round trips,
// and several gateways together never admit more than the limit.

type Leased = InstanceType<ReturnType<typeof leasedRedisStore>> & { takes: number }

const newStore = (redis: Redis, prefix: string) => new (leasedRedisStore(redis, prefix))({}) as Leased

t.test('rate-limit store contract on Redis', async (t) => {
  rateLimitStoreContract(t, async (t) => {
    const { redis } = await isolate(t)
    // Redis keeps real time; the contract waits only on windows of a fraction of a second.
    return { Store: leasedRedisStore(redis), elapse: (ms) => sleep(ms) }
  })
})

t.test('one gateway numbers a busy caller exactly, in few round trips', async (t) => {
  const { redis, keyPrefix } = await isolate(t)
  const store = newStore(redis, `rl-${keyPrefix}`)
  const numbers = await sendRequests(store, 'user:busy', 1_000, 600)
  t.same([...numbers].sort((a, b) => a - b), Array.from({ length: 600 }, (_, i) => i + 1), 'requests 1..600, each number once')
  t.ok(store.takes < 100, `600 requests, ${store.takes} round trips to Redis`)
  const counted = Number(await redis.get(`rl-${keyPrefix}user:busy`))
  t.ok(counted >= 600 && counted <= 600 + 50, `Redis counted ${counted}: the requests plus at most one block (1/20 of the limit)`)
})

t.test('a small limit is counted request by request, as before', async (t) => {
  const { redis, keyPrefix } = await isolate(t)
  const store = newStore(redis, `rl-${keyPrefix}`)
  await sendRequests(store, 'ip:203.0.113.5', 5, 10, 2)
  t.equal(store.takes, 10, 'a limit under 40 leaves no room for blocks')
})

t.test('two gateways together never admit more than the limit', async (t) => {
  const { redis, keyPrefix, urls } = await isolate(t)
  const other = new Redis(urls.redisUrl, { keyPrefix })
  t.teardown(() => other.disconnect())
  const a = newStore(redis, `rl-${keyPrefix}`)
  const b = newStore(other, `rl-${keyPrefix}`)
  const [fromA, fromB] = await Promise.all([sendRequests(a, 'user:shared', 400, 300), sendRequests(b, 'user:shared', 400, 300)])
  const admitted = [...fromA, ...fromB].filter((n) => n <= 400)
  t.equal(new Set([...fromA, ...fromB]).size, 600, 'no number handed out twice')
  t.ok(admitted.length <= 400, `${admitted.length} admitted of a limit of 400`)
  t.ok(admitted.length >= 400 - 20, 'refused early by at most one block (1/20 of the limit)')
})

t.test('Redis unreachable: every waiting request gets the error (the limiter then steps aside)', async (t) => {
  const down = new Redis({ port: 1, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
  down.on('error', () => undefined)
  t.teardown(() => down.disconnect())
  const store = newStore(down, 'rl-down:')
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => countRequest(store, 'user:x', 1_000)))
  t.same(results.map((r) => r.status), ['rejected', 'rejected', 'rejected', 'rejected', 'rejected'])
  await t.rejects(countRequest(store, 'user:x', 1_000), 'a later request asks Redis again (and fails again) instead of waiting forever')
})
