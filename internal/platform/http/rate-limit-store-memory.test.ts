import t from 'tap'
import { ManualClock } from '../testing/manual-clock.js'
import { countRequest, rateLimitStoreContract } from './rate-limit-store-contract.js'
import { memoryRateLimitStore } from './rate-limit-store-memory.js'

t.test('rate-limit store contract in memory', async (t) => {
  rateLimitStoreContract(t, async () => {
    const clock = new ManualClock()
    return { Store: memoryRateLimitStore({ clock }), elapse: async (ms) => clock.advance(ms) }
  })
})

t.test('the window is timed exactly: its ttl runs down with the clock and it ends on the millisecond', async (t) => {
  const clock = new ManualClock()
  const store = new (memoryRateLimitStore({ clock }))({})
  t.same(await countRequest(store, 'user:a', 10), { current: 1, ttl: 60_000 }, 'the first request opens a whole minute')
  clock.advance(10_000)
  t.same(await countRequest(store, 'user:a', 10), { current: 2, ttl: 50_000 })
  clock.advance(49_999)
  t.same(await countRequest(store, 'user:a', 10), { current: 3, ttl: 1 }, 'the last millisecond is still the same window')
  clock.advance(1)
  t.same(await countRequest(store, 'user:a', 10), { current: 1, ttl: 60_000 }, 'then a new one opens')
})

t.test('past maxKeys the key quiet longest is forgotten, the busy ones keep their counts', async (t) => {
  const store = new (memoryRateLimitStore({ maxKeys: 2, clock: new ManualClock() }))({})
  await countRequest(store, 'user:quiet', 10)
  await countRequest(store, 'user:busy', 10)
  await countRequest(store, 'user:busy', 10)
  await countRequest(store, 'user:new', 10)
  t.equal((await countRequest(store, 'user:busy', 10)).current, 3, 'the busy caller is still counted')
  t.equal((await countRequest(store, 'user:quiet', 10)).current, 1, 'the quiet one starts afresh')
})
