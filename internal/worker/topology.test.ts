import t from 'tap'
import { loadConfig } from '../config/config.js'
import { parseRoles, recoveryChain, retryPublication, workerQueueNames, workerTopology } from '../platform/bus/worker-topology.js'

t.test('the n-th failure waits in the n-th delay queue, the last delay repeats, then the dead-letter queue', async (t) => {
  const names = workerQueueNames('archive', [100, 200])
  t.same(names, { role: 'archive', work: 'delivertrack.archive', delays: ['delivertrack.archive.retry.100ms', 'delivertrack.archive.retry.200ms'], dead: 'delivertrack.archive.dead' })
  t.same(recoveryChain(names, 4, [100, 200]).map((r) => [r.publication, r.attempts]), [
    ['delivertrack.archive.retry.100ms', 1],
    ['delivertrack.archive.retry.200ms', 2],
    ['delivertrack.archive.retry.200ms', 3],
    ['delivertrack.archive.dead', undefined],
    [undefined, undefined],
  ])
  t.same(recoveryChain(names, 1, [100, 200]).map((r) => r.strategy), ['forward', 'nack'], 'one attempt: straight to the dead letters')
})

t.test("the archive's own consumer forwards a failure where rascal's recovery chain would", async (t) => {
  for (const [delays, maxAttempts] of [[[100, 200], 4], [[100, 200], 1], [[100, 100, 300], 5], [[50], 3]] as const) {
    const names = workerQueueNames('archive', delays)
    const chain = recoveryChain(names, maxAttempts, delays)
    for (let attempt = 1; attempt <= maxAttempts + 1; attempt++) {
      // rascal takes the first forward whose `attempts` limit the message has not used up yet.
      const expected = chain.find((r) => r.strategy === 'forward' && (r.attempts === undefined || r.attempts >= attempt))!.publication
      t.equal(retryPublication(names, attempt, maxAttempts, delays), expected, `delays ${delays.join(',')}, ${maxAttempts} attempts, failure of attempt ${attempt}`)
    }
    t.equal(retryPublication(names, 1, maxAttempts, delays, true), names.dead, 'a permanent failure goes to the dead letters at once')
  }
})

t.test('the gateway declares what keeps events; the worker adds delays and subscriptions', async (t) => {
  const kept = workerTopology({ roles: ['archive', 'notify', 'webhooks'], delaysMs: [1000] })
  const queues = kept.queues as Record<string, object>
  const bindings = Object.values(kept.bindings as Record<string, { destination: string; bindingKey: string }>)
  t.same(Object.keys(queues).sort(), ['delivertrack.archive', 'delivertrack.archive.dead', 'delivertrack.notify', 'delivertrack.notify.dead', 'delivertrack.webhooks', 'delivertrack.webhooks.dead'])
  t.same(kept.subscriptions, {})
  t.match(queues['delivertrack.archive'], { options: { durable: true, arguments: { 'x-dead-letter-routing-key': 'delivertrack.archive.dead' } } })
  t.same(bindings.filter((b) => b.destination === 'delivertrack.notify').map((b) => b.bindingKey), ['package.status_changed'])
  const run = workerTopology({ roles: ['archive'], delaysMs: [1000], consume: true, prefetch: { archive: 10 } })
  t.match((run.queues as Record<string, object>)['delivertrack.archive.retry.1000ms'], { options: { arguments: { 'x-message-ttl': 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'delivertrack.archive' } } })
  t.match(run.subscriptions!.archive, { queue: 'delivertrack.archive', prefetch: 10 })
  t.same(parseRoles(' archive,notify,archive '), ['archive', 'notify'])
  t.throws(() => parseRoles('archive,email'), /unknown worker role "email"/)
  t.same(parseRoles(loadConfig({ WORKER_QUEUES: 'none' }).WORKER_QUEUES), [], 'WORKER_QUEUES=none: no roles')
  t.same(workerTopology({ roles: parseRoles('none'), delaysMs: [1000] }), { queues: {}, bindings: {}, publications: {}, subscriptions: {} }, 'and nothing declared for them')
})
