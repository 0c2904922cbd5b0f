import t from 'tap'
import { ManualClock } from '../testing/manual-clock.js'
import { idempotency } from './idempotency.js'
import { idempotencyStoreContract } from './idempotency-store-contract.js'
import { MemoryIdempotencyStore } from './idempotency-store-memory.js'
import { createServer } from './server.js'

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

t.test('Idempotency-Key on a gateway alone, records in memory', async (t) => {
  const app = await createServer({ logLevel: 'silent', bodyLimit: 1_024, version: 'test' })
  t.teardown(() => app.close())
  await app.register(idempotency, { store: new MemoryIdempotencyStore(), secret: 'test-secret-0123456789abcdef' })
  let runs = 0
  app.post('/orders', async (request, reply) => reply.code(201).send({ order: ++runs, ...(request.body as object) }))
  app.post('/flaky', async () => {
    runs++
    throw new Error('boom')
  })
  const post = (url: string, key: string, payload: object) => app.inject({ method: 'POST', url, headers: { 'idempotency-key': key }, payload })

  const first = await post('/orders', 'order-1', { item: 'tea' })
  t.equal(first.statusCode, 201)
  const retry = await post('/orders', 'order-1', { item: 'tea' })
  t.equal(retry.statusCode, 201)
  t.equal(retry.headers['idempotent-replay'], 'true')
  t.equal(retry.body, first.body, 'the stored answer, byte for byte')
  t.equal((await post('/orders', 'order-1', { item: 'coffee' })).json().code, 'idempotency_key_reused', 'another body under the key is 422')
  t.equal(runs, 1, 'the order ran once')

  t.equal((await post('/flaky', 'flaky-1', {})).statusCode, 500)
  t.equal((await post('/flaky', 'flaky-1', {})).statusCode, 500, 'a 5xx is not kept: the retry runs again')
  t.equal(runs, 3)
})
