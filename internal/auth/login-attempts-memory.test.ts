import t from 'tap'
import { loginAttemptsContract } from './login-attempts-contract.js'
import { MemoryLoginAttemptStore } from './login-attempts-memory.js'

t.test('login attempt store contract in memory', async (t) => {
  // The memory store judges expiry by the `now` it is given: nothing else to move.
  loginAttemptsContract(t, async () => ({ store: new MemoryLoginAttemptStore(), elapse: async () => undefined }))
})

t.test('past maxKeys the keys used least recently go first', async (t) => {
  const store = new MemoryLoginAttemptStore({ maxKeys: 2 })
  const rule = { freeAttempts: 1, baseDelayMs: 1_000, maxDelayMs: 1_000, forgetAfterMs: 60_000 }
  await store.attempt('login:1', 0, rule)
  await store.attempt('login:2', 0, rule)
  await store.attempt('login:3', 0, rule)
  t.same(await store.attempt('login:1', 0, rule), { allowed: true, attempts: 1 }, 'the oldest key was dropped')
  t.same(await store.attempt('login:3', 0, rule), { allowed: false, retryAfterMs: 1_000 }, 'a recent one is kept')
})
