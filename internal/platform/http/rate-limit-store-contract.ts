// The behaviour every RateLimitStore must have, as one tap suite that takes a
// factory. rate-limit-store-redis.test.ts and rate-limit-store-memory.test.ts run it.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { registerRateLimit } from './rate-limit.js'
import type { RateLimitStore, RateLimitStoreFactory } from './rate-limit-store.js'
import { createServer } from './server.js'

export interface RateLimitContractFixture {
  Store: RateLimitStoreFactory
  /** Lets `ms` of the store's time pass (a manual clock, or a real wait: the suite only waits on short windows). */
  elapse(ms: number): Promise<void>
}

export type RateLimitContractFactory = (t: Test) => Promise<RateLimitContractFixture>

type Counted = { current: number; ttl: number }

export const countRequest = (store: RateLimitStore, key: string, max: number, windowMs = 60_000) =>
  new Promise<Counted>((resolve, reject) => store.incr(key, (err, res) => (err ? reject(err) : resolve(res!)), windowMs, max))

/** `n` requests in bursts of `burst` at once, as a busy client's connections send them; their numbers. */
export async function sendRequests(store: RateLimitStore, key: string, max: number, n: number, burst = 20, windowMs?: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i += burst) {
    const got = await Promise.all(Array.from({ length: Math.min(burst, n - i) }, () => countRequest(store, key, max, windowMs)))
    out.push(...got.map((r) => r.current))
  }
  return out
}

const WINDOW_MS = 60_000
/** Short enough that a store on real time may simply wait it out. */
const SHORT_WINDOW_MS = 300

export function rateLimitStoreContract(t: Test, factory: RateLimitContractFactory): void {
  let fx: RateLimitContractFixture
  let store: RateLimitStore
  t.before(async () => {
    fx = await factory(t)
    store = new fx.Store({})
  })

  t.test("a key's requests are numbered 1, 2, 3 ... in its window, with the time the window has left", async (t) => {
    for (let n = 1; n <= 5; n++) {
      const { current, ttl } = await countRequest(store, 'user:one-by-one', 100)
      t.equal(current, n, `request ${n}`)
      t.ok(ttl >= 1 && ttl <= WINDOW_MS, `the window has ${ttl} ms left, within its minute`)
    }
    t.equal((await countRequest(store, 'user:someone-else', 100)).current, 1, 'another key counts on its own')
  })

  t.test('requests arriving at once get numbers of their own: exactly max admitted', async (t) => {
    const numbers = await sendRequests(store, 'key:device', 40, 45, 5)
    t.equal(numbers.filter((n) => n <= 40).length, 40, 'exactly 40 admitted')
    t.equal(numbers.filter((n) => n > 40).length, 5, 'the other 5 refused')
    const busy = await sendRequests(store, 'user:busy', 1_000, 600)
    t.same([...busy].sort((a, b) => a - b), Array.from({ length: 600 }, (_, i) => i + 1), 'a busy caller: requests 1..600, each number once')
  })

  t.test('once the window has passed, a key is numbered from 1 again', async (t) => {
    const first = await sendRequests(store, 'user:window', 1_000, 30, 10, SHORT_WINDOW_MS)
    t.equal(Math.max(...first), 30)
    await fx.elapse(SHORT_WINDOW_MS)
    // A store on real time may answer a request or two from the closing window first.
    let next = await countRequest(store, 'user:window', 1_000, SHORT_WINDOW_MS)
    for (let tries = 0; next.current !== 1 && tries < 400; tries++) {
      await sleep(25)
      next = await countRequest(store, 'user:window', 1_000, SHORT_WINDOW_MS)
    }
    t.equal(next.current, 1, 'numbered afresh in a new window')
    t.ok(next.ttl >= 1 && next.ttl <= SHORT_WINDOW_MS, `ttl ${next.ttl} ms within the new window`)
  })

  t.test('a route with limits of its own counts apart from the others', async (t) => {
    const route = (method: string, url: string) => store.child({ routeInfo: { method, url } } as never)
    await sendRequests(store, 'ip:192.0.2.1', 100, 3, 1)
    const track = route('GET', '/api/v1/track/:trackingNumber')
    t.equal((await countRequest(track, 'ip:192.0.2.1', 100)).current, 1, "the route's count starts apart from the global one")
    t.equal((await countRequest(track, 'ip:192.0.2.1', 100)).current, 2)
    t.equal((await countRequest(route('POST', '/api/v1/auth/login'), 'ip:192.0.2.1', 100)).current, 1, 'and from another route')
    t.equal((await countRequest(store, 'ip:192.0.2.1', 100)).current, 4, 'the global count went on by itself')
  })

  t.test('options the store cannot honour are refused at start-up', async (t) => {
    t.throws(() => new fx.Store({ continueExceeding: true } as never), /continueExceeding/)
    t.throws(() => store.child({ routeInfo: { method: 'GET', url: '/x' }, exponentialBackoff: true } as never), /exponentialBackoff/)
  })

  t.test('through the plugin: remaining counts down, request max + 1 is 429 with when to retry', async (t) => {
    const app = await createServer({ logLevel: 'silent', bodyLimit: 1_024, version: 'test' })
    t.teardown(() => app.close())
    await registerRateLimit(app, { store: fx.Store, max: 3 })
    app.get('/thing', async () => ({ ok: true }))
    app.get('/strict', { config: { rateLimit: { max: 1, timeWindow: WINDOW_MS } } }, async () => ({ ok: true }))
    const get = (url: string, remoteAddress = '198.51.100.20') => app.inject({ method: 'GET', url, remoteAddress })
    for (let i = 1; i <= 3; i++) {
      const res = await get('/thing')
      t.equal(res.statusCode, 200, `request ${i}`)
      t.equal(res.headers['x-ratelimit-limit'], '3')
      t.equal(res.headers['x-ratelimit-remaining'], String(3 - i))
      const reset = Number(res.headers['x-ratelimit-reset'])
      t.ok(reset >= 1 && reset <= 60, `x-ratelimit-reset ${reset} s`)
    }
    const refused = await get('/thing')
    t.equal(refused.statusCode, 429)
    t.equal(refused.json().code, 'rate_limited')
    t.equal(refused.headers['x-ratelimit-remaining'], '0')
    const retryAfter = Number(refused.headers['retry-after'])
    t.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter} s`)
    t.equal((await get('/thing', '198.51.100.21')).statusCode, 200, 'another caller has a bucket of its own')
    t.equal((await get('/strict')).statusCode, 200, 'a route with its own limit is not charged for the others')
    t.equal((await get('/strict')).statusCode, 429, 'and has its own max')
  })
}
