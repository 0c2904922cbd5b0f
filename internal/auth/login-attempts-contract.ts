// The behaviour every LoginAttemptStore must have, as one tap suite that takes a
// factory. login-attempts-redis.test.ts and login-attempts-memory.test.ts run it.
import type { Test } from 'tap'
import type { LoginAttemptStore, ThrottleRule } from './ports.js'

export interface LoginAttemptsFixture {
  store: LoginAttemptStore
  /** Lets `ms` pass for the store's expiry (a manual clock, or Redis keys' TTLs run down); the suite moves its own `now`. */
  elapse(ms: number): Promise<void>
}

export type LoginAttemptsFactory = (t: Test) => Promise<LoginAttemptsFixture>

const RULE: ThrottleRule = { freeAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, forgetAfterMs: 60_000 }

export function loginAttemptsContract(t: Test, factory: LoginAttemptsFactory): void {
  let fx: LoginAttemptsFixture
  // Milliseconds the suite hands the store; far from zero, like a real clock.
  let now = 1_800_000_000_000
  t.before(async () => {
    fx = await factory(t)
  })
  const attempt = (key: string) => fx.store.attempt(key, now, RULE)

  t.test('attempts are counted; from the last free one on, each holds the key back for a delay that doubles, up to the cap', async (t) => {
    t.same(await attempt('login:a'), { allowed: true, attempts: 1 })
    t.same(await attempt('login:a'), { allowed: true, attempts: 2 })
    t.same(await attempt('login:a'), { allowed: true, attempts: 3 }, 'the last free attempt')
    for (const delay of [1_000, 2_000, 4_000, 8_000, 8_000]) {
      t.same(await attempt('login:a'), { allowed: false, retryAfterMs: delay }, `held back for ${delay} ms`)
      now += delay - 1
      t.same(await attempt('login:a'), { allowed: false, retryAfterMs: 1 }, 'up to its last millisecond')
      now += 1
      const next = await attempt('login:a')
      t.equal(next.allowed, true, `allowed after ${delay} ms`)
    }
    t.same(await attempt('login:other'), { allowed: true, attempts: 1 }, 'another key counts on its own')
  })

  t.test('an attempt held back changes nothing', async (t) => {
    for (let i = 0; i < 3; i++) await attempt('login:b')
    for (let i = 0; i < 10; i++) t.same(await attempt('login:b'), { allowed: false, retryAfterMs: 1_000 })
    now += 1_000
    t.same(await attempt('login:b'), { allowed: true, attempts: 4 }, 'the refused ones were not counted')
    t.same(await attempt('login:b'), { allowed: false, retryAfterMs: 2_000 }, 'and the delay doubled once')
  })

  t.test('of attempts arriving at once, only the free ones get through', async (t) => {
    const results = await Promise.all(Array.from({ length: 20 }, () => attempt('login:burst')))
    t.equal(results.filter((r) => r.allowed).length, 3)
  })

  t.test('clear forgets the key; clearing an unknown key does nothing', async (t) => {
    for (let i = 0; i < 3; i++) await attempt('login:c')
    t.equal((await attempt('login:c')).allowed, false)
    await fx.store.clear('login:c')
    t.same(await attempt('login:c'), { allowed: true, attempts: 1 })
    await fx.store.clear('login:never-seen')
  })

  t.test('a key is forgotten forgetAfterMs after its last counted attempt', async (t) => {
    for (let i = 0; i < 3; i++) await attempt('login:d')
    // A second short of it: Redis' own clock runs on while the suite works.
    now += RULE.forgetAfterMs - 1_000
    await fx.elapse(RULE.forgetAfterMs - 1_000)
    t.same(await attempt('login:d'), { allowed: true, attempts: 4 }, 'remembered until then (and the hold is over)')
    now += RULE.forgetAfterMs
    await fx.elapse(RULE.forgetAfterMs)
    t.same(await attempt('login:d'), { allowed: true, attempts: 1 }, 'forgotten after it')
  })
}
