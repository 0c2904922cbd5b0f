// The behaviour every IdempotencyStore must have, as one tap suite that takes a
// factory. idempotency-store-redis.test.ts and idempotency-store-memory.test.ts run it.
import type { Test } from 'tap'
import type { IdempotencyStore } from './idempotency-store.js'

export interface IdempotencyContractFixture {
  store: IdempotencyStore
  /** Lets `ms` of the store's time pass (a manual clock, or Redis keys' TTLs run down). */
  elapse(ms: number): Promise<void>
}

export type IdempotencyContractFactory = (t: Test) => Promise<IdempotencyContractFixture>

const PENDING_MS = 60_000
const DONE_MS = 86_400_000

export function idempotencyStoreContract(t: Test, factory: IdempotencyContractFactory): void {
  let fx: IdempotencyContractFixture
  t.before(async () => {
    fx = await factory(t)
  })

  t.test('the first claim of a key takes it; a later one finds the claimant\'s record', async (t) => {
    t.same(await fx.store.claim('idem:user:1:a', 'pending A', PENDING_MS), { claimed: true })
    t.same(await fx.store.claim('idem:user:1:a', 'pending B', PENDING_MS), { claimed: false, record: 'pending A' }, 'the first record, not overwritten')
    t.same(await fx.store.claim('idem:user:2:a', 'pending C', PENDING_MS), { claimed: true }, 'another key is free')
  })

  t.test('of many claims at once exactly one takes the key', async (t) => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => fx.store.claim('idem:race', `pending ${i}`, PENDING_MS)))
    const winners = results.flatMap((r, i) => (r.claimed ? [i] : []))
    t.equal(winners.length, 1, 'one claim took it')
    for (const r of results) if (!r.claimed) t.equal(r.record, `pending ${winners[0]}`, "the others found the winner's record")
  })

  t.test('a finished record replaces the claim and is what later claims find, text unchanged', async (t) => {
    const answer = `{"state":"done","sealed":"${'x'.repeat(10_000)}","note":"Zoë ✓"}`
    await fx.store.claim('idem:done', 'pending', PENDING_MS)
    await fx.store.finish('idem:done', answer, DONE_MS)
    t.same(await fx.store.claim('idem:done', 'pending again', PENDING_MS), { claimed: false, record: answer })
  })

  t.test('a released claim frees the key; releasing a free key does nothing', async (t) => {
    await fx.store.claim('idem:failed', 'pending', PENDING_MS)
    await fx.store.release('idem:failed')
    t.same(await fx.store.claim('idem:failed', 'retry', PENDING_MS), { claimed: true }, 'the retry runs')
    await fx.store.release('idem:never-claimed')
    t.same(await fx.store.claim('idem:never-claimed', 'first', PENDING_MS), { claimed: true })
  })

  t.test('a claim that never finishes lapses with its TTL', async (t) => {
    await fx.store.claim('idem:stuck', 'pending', PENDING_MS)
    await fx.elapse(PENDING_MS - 1_000)
    t.same(await fx.store.claim('idem:stuck', 'retry', PENDING_MS), { claimed: false, record: 'pending' }, 'held until then')
    await fx.elapse(1_001)
    t.same(await fx.store.claim('idem:stuck', 'retry', PENDING_MS), { claimed: true }, 'free after it')
  })

  t.test('a finished record lives its own TTL, not the claim\'s', async (t) => {
    await fx.store.claim('idem:kept', 'pending', PENDING_MS)
    await fx.store.finish('idem:kept', 'done', DONE_MS)
    await fx.elapse(DONE_MS - 1_000)
    t.same(await fx.store.claim('idem:kept', 'retry', PENDING_MS), { claimed: false, record: 'done' }, 'replayed for its whole life')
    await fx.elapse(1_001)
    t.same(await fx.store.claim('idem:kept', 'new request', PENDING_MS), { claimed: true }, 'and the key is free after it')
  })
}
