import t from 'tap'
import { Redis } from 'ioredis'
import { isolate } from '../testing/harness.js'
import { leasedRedisStore } from './rate-limit-store-redis.js'

// The rate-limit counter taken from Redis in blocks, against the real Redis. What a
// caller notices: its requests are numbered 1, 2, 3 ... in the window, with the
// 429 at exactly max + 1 on one gateway and never more than max admitted across
// gateways; what an operator notices: a busy caller costs few Redis round trips.

type Store = { incr: (key: string, cb: (err: Error | null, res?: { current: number; ttl: number }) => void, windowMs: number, max: number) => void; takes: number }

const newStore = (redis: Redis, prefix: string) => new (leasedRedisStore(redis, prefix))({}) as unknown as Store
const incr = (store: Store, key: string, max: number, windowMs = 60_000) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) => store.incr(key, (err, res) => (err ? reject(err) : resolve(res!)), windowMs, max))
/** `n` requests in bursts of `burst` at once, as a busy client's connections send them. */
async function send(store: Store, key: string, max: number, n: number, burst = 20, windowMs?: number) {
  const out: number[] = []
  for (let i = 0; i < n; i += burst) {
    const got = await Promise.all(Array.from({ length: Math.min(burst, n - i) }, () => incr(store, key, max, windowMs)))
    out.push(...got.map((r) => r.current))
  }
  return out
}

t.test('one gateway numbers a busy caller exactly, in few round trips', async (t) => {
  const { redis, keyPrefix } = await isolate(t)
  const store = newStore(redis, `rl-${keyPrefix}`)
  const numbers = await send(store, 'user:busy', 1_000, 600)
  t.same([...numbers].sort((a, b) => a - b), Array.from({ length: 600 }, (_, i) => i + 1), 'requests 1..600, each number once')
  t.ok(store.takes < 100, `600 requests, ${store.takes} round trips to Redis`)
  const counted = Number(await redis.get(`rl-${keyPrefix}user:busy`))
  t.ok(counted >= 600 && counted <= 600 + 50, `Redis counted ${counted}: the requests plus at most one block (1/20 of the limit)`)
})

t.test('options this store cannot honour are refused at start-up', async (t) => {
  const { redis } = await isolate(t)
  const Store = leasedRedisStore(redis, 'rl-opts:')
  t.throws(() => new Store({ continueExceeding: true }), /continueExceeding/)
  t.throws(() => new Store({}).child({ routeInfo: { method: 'GET', url: '/x' }, exponentialBackoff: true } as never), /exponentialBackoff/)
})

t.test('at the limit: requests max + 1 onwards get numbers above max (the plugin answers them 429)', async (t) => {
  const { redis, keyPrefix } = await isolate(t)
  const store = newStore(redis, `rl-${keyPrefix}`)
  const numbers = await send(store, 'key:device', 40, 45, 5)
  t.equal(numbers.filter((n) => n <= 40).length, 40, 'exactly 40 admitted')
  t.equal(numbers.filter((n) => n > 40).length, 5, 'the other 5 refused')
})

t.test('a small limit is counted request by request, as before', async (t) => {
  const { redis, keyPrefix } = await isolate(t)
  const store = newStore(redis, `rl-${keyPrefix}`)
  await send(store, 'ip:203.0.113.5', 5, 10, 2)
  t.equal(store.takes, 10, 'a limit under 40 leaves no room for blocks')
})

t.test('two gateways together never admit more than the limit', async (t) => {
  const { redis, keyPrefix, urls } = await isolate(t)
  const other = new Redis(urls.redisUrl, { keyPrefix })
  t.teardown(() => other.disconnect())
  const a = newStore(redis, `rl-${keyPrefix}`)
  const b = newStore(other, `rl-${keyPrefix}`)
  const [fromA, fromB] = await Promise.all([send(a, 'user:shared', 400, 300), send(b, 'user:shared', 400, 300)])
  const admitted = [...fromA, ...fromB].filter((n) => n <= 400)
  t.equal(new Set([...fromA, ...fromB]).size, 600, 'no number handed out twice')
  t.ok(admitted.length <= 400, `${admitted.length} admitted of a limit of 400`)
  t.ok(admitted.length >= 400 - 20, 'refused early by at most one block (1/20 of the limit)')
})

t.test('a new window starts from 1', async (t) => {
  const { redis, keyPrefix } = await isolate(t)
  const store = newStore(redis, `rl-${keyPrefix}`)
  const first = await send(store, 'user:window', 1_000, 100, 20, 2_000)
  t.equal(Math.max(...first), 100)
  await new Promise((r) => setTimeout(r, 2_100))
  const next = await incr(store, 'user:window', 1_000, 2_000)
  t.equal(next.current, 1, 'numbered afresh after the window ended')
  t.ok(next.ttl > 0 && next.ttl <= 2_000, `ttl ${next.ttl} ms within the window`)
})

t.test('Redis unreachable: every waiting request gets the error (the limiter then steps aside)', async (t) => {
  const down = new Redis({ port: 1, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
  down.on('error', () => undefined)
  t.teardown(() => down.disconnect())
  const store = newStore(down, 'rl-down:')
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => incr(store, 'user:x', 1_000)))
  t.same(results.map((r) => r.status), ['rejected', 'rejected', 'rejected', 'rejected', 'rejected'])
  await t.rejects(incr(store, 'user:x', 1_000), 'a later request asks Redis again (and fails again) instead of waiting forever')
})
