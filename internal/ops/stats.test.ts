import t from 'tap'
import { boundedStats, type StatsReaders } from './stats.js'

// The figures' readers stand in for servers that never answer; the budget is short
// so the test does not wait long for what it asserts: an answer, not a hang.

const never = <T>() => new Promise<T>(() => undefined)
const local: StatsReaders['local'] = () => ({ websocket: { connections: 2, subscriptions: 3 }, cache: { hits: 1, misses: 0 }, published: 5, delivered: 7 })
const log = { warn: () => undefined }

t.test('figures whose server never answers are null and named unknown; the rest are reported', async (t) => {
  const calls = { packages: 0, outbox: 0 }
  const stats = boundedStats({
    packages: () => (calls.packages++, never()),
    outbox: () => (calls.outbox++, never()),
    queues: () => Promise.reject(new Error('message broker not connected')),
    local,
    log,
    budgetMs: 50,
  })
  const s = await stats()
  t.same(s.unknown, ['packages', 'outbox', 'queues'])
  t.same(s.packages, { total: null, byStatus: {} })
  t.match(s.events, { published: 5, delivered: 7, outboxPending: null, outboxOldestAgeS: null })
  t.same(s.queues, {})
  t.same(s.websocket, { connections: 2, subscriptions: 3 }, 'what the process counts itself is always there')
  await stats()
  t.same(calls, { packages: 1, outbox: 1 }, 'a read still hanging is not started again by the next request')
})

t.test('figures read in time are reported as they are', async (t) => {
  const stats = boundedStats({
    packages: async () => ({ created: 2, delivered: 1 }),
    outbox: async () => ({ pending: 4, oldestAgeS: 1.5 }),
    queues: async () => ({ 'delivertrack.archive': { messages: 3, consumers: 1, retrying: 0, deadLetters: 0 } }),
    local,
    log,
  })
  const s = await stats()
  t.same(s.unknown, [])
  t.same(s.packages, { total: 3, byStatus: { created: 2, delivered: 1 } })
  t.match(s.events, { outboxPending: 4, outboxOldestAgeS: 1.5 })
  t.same(Object.keys(s.queues), ['delivertrack.archive'])
})
