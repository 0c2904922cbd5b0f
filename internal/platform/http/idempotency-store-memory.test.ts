import t from 'tap'
import { ManualClock } from '../testing/manual-clock.js'
import { idempotencyStoreContract } from './idempotency-store-contract.js'
import { MemoryIdempotencyStore } from './idempotency-store-memory.js'

t.test('idempotency store contract in memory', async (t) => {
  idempotencyStoreContract(t, async () => {
    const clock = new ManualClock()
    return { store: new MemoryIdempotencyStore({ clock }), elapse: async (ms) => clock.advance(ms) }
  })
})

t.test('past maxSize the records used least recently go first', async (t) => {
  const store = new MemoryIdempotencyStore({ maxSize: 3 * (5 + 100) })
  const record = (c: string) => c.repeat(100)
  for (const key of ['key:1', 'key:2', 'key:3']) await store.claim(key, record(key.at(-1)!), 60_000)
  await store.claim('key:1', record('x'), 60_000) // key:1 is read again: in use
  t.same(await store.claim('key:4', record('4'), 60_000), { claimed: true })
  t.same(await store.claim('key:1', record('y'), 60_000), { claimed: false, record: record('1') }, 'a record in use stays')
  t.same(await store.claim('key:2', record('z'), 60_000), { claimed: true }, 'the one unused longest was dropped')
})
