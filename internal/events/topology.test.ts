import t from 'tap'
import { loadConfig } from '../config/config.js'
import { DELIVERY_LIMIT, rascalConfig, recoveryChain } from './bus-rabbitmq-topology.js'
import { afterFailure, parseRoles, ROLE_BINDINGS, roleQueues, topicMatches, WORKER_ROLES } from './topology.js'

t.test('the n-th failure waits the n-th delay, the last delay repeats, then the dead letters', async (t) => {
  t.same(roleQueues('archive', [100, 200]), { role: 'archive', work: 'delivertrack.archive', delays: ['delivertrack.archive.retry.100ms', 'delivertrack.archive.retry.200ms'], dead: 'delivertrack.archive.dead' })
  const policy = { delaysMs: [100, 200], maxAttempts: 4 }
  t.same([1, 2, 3, 4].map((attempt) => afterFailure(policy, attempt)), [{ dead: false, delayMs: 100 }, { dead: false, delayMs: 200 }, { dead: false, delayMs: 200 }, { dead: true }])
  t.same(afterFailure(policy, 1, true), { dead: true }, 'a permanent failure goes to the dead letters at once')
  t.same(afterFailure({ delaysMs: [100], maxAttempts: 1 }, 1), { dead: true }, 'one attempt: straight to the dead letters')
})

t.test("rascal's recovery chain forwards a failure where the batched consumer does", async (t) => {
  for (const [delaysMs, maxAttempts] of [[[100, 200], 4], [[100, 200], 1], [[100, 100, 300], 5], [[50], 3]] as const) {
    const names = roleQueues('archive', delaysMs)
    const chain = recoveryChain(names, { delaysMs, maxAttempts })
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      // rascal takes the first forward whose `attempts` limit the message has not used up yet.
      const rascal = chain.find((r) => r.strategy === 'forward' && (r.attempts === undefined || r.attempts >= attempt))!.publication
      const next = afterFailure({ delaysMs, maxAttempts }, attempt)
      t.equal(rascal, next.dead ? names.dead : `${names.work}.retry.${next.delayMs}ms`, `delays ${delaysMs.join(',')}, ${maxAttempts} attempts, failure of attempt ${attempt}`)
    }
  }
})

t.test('every process declares the work, delay and dead-letter queues; a gateway adds its hub', async (t) => {
  const config = rascalConfig({ url: 'amqp://x', hubQueue: 'gateway.a', queues: [{ role: 'notify', bindings: ROLE_BINDINGS.notify }], retry: { delaysMs: [1000], maxAttempts: 3 } })
  const vhost = config.vhosts!['/']!
  const queues = vhost.queues as Record<string, object>
  t.same(Object.keys(queues).sort(), ['delivertrack.notify', 'delivertrack.notify.dead', 'delivertrack.notify.retry.1000ms', 'gateway.a'])
  t.match(queues['delivertrack.notify'], { options: { durable: true, arguments: { 'x-dead-letter-routing-key': 'delivertrack.notify.dead' } } })
  t.match(queues['delivertrack.notify.retry.1000ms'], { options: { arguments: { 'x-message-ttl': 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'delivertrack.notify' } } })
  t.match(queues['gateway.a'], { options: { exclusive: true, autoDelete: true } })
  const bindings = Object.values(vhost.bindings as Record<string, { destination: string; bindingKey: string }>)
  t.same(bindings.filter((b) => b.destination === 'delivertrack.notify').map((b) => b.bindingKey), ['package.status_changed'])
  const worker = rascalConfig({ url: 'amqp://x', queues: [], retry: { delaysMs: [1000], maxAttempts: 3 } }).vhosts!['/']!
  t.same(Object.keys(worker.queues as object), [], 'no hub, no roles: nothing but the exchange')
})

t.test('live notification notices reach every hub and no role queue', async (t) => {
  const vhost = rascalConfig({ url: 'amqp://x', hubQueue: 'gateway.a', queues: WORKER_ROLES.map((role) => ({ role, bindings: ROLE_BINDINGS[role] })), retry: { delaysMs: [1000], maxAttempts: 3 } }).vhosts!['/']!
  const bindings = Object.values(vhost.bindings as Record<string, { destination: string; bindingKey: string }>)
  const hears = (queue: string, key: string) => bindings.some((b) => b.destination === queue && topicMatches(b.bindingKey, key))
  t.ok(hears('gateway.a', 'notification.created'), 'the hub')
  t.ok(hears('gateway.a', 'package.location'), 'the hub still hears package events')
  for (const role of WORKER_ROLES) t.notOk(hears(`delivertrack.${role}`, 'notification.created'), `not the ${role} queue`)
  t.notOk(hears('delivertrack.inbox', 'package.location'), 'the inbox takes no live locations')
})

t.test('topic patterns and role lists', async (t) => {
  t.ok(topicMatches('package.#', 'package.status_changed'))
  t.ok(topicMatches('package.#', 'package'), '# matches zero words')
  t.ok(topicMatches('package.*', 'package.location'))
  t.notOk(topicMatches('package.*', 'package.a.b'))
  t.notOk(topicMatches('package.status_changed', 'package.created'))
  t.same(parseRoles(' archive,notify,archive '), ['archive', 'notify'])
  t.throws(() => parseRoles('archive,email'), /unknown worker role "email"/)
  t.same(parseRoles(loadConfig({ WORKER_QUEUES: 'none' }).WORKER_QUEUES), [], 'WORKER_QUEUES=none: no roles')
})

t.test('a list of broker URLs becomes one rascal connection per node; quorum queues dead-letter at least once', async (t) => {
  const vhost = rascalConfig({ url: 'amqp://a:5672, amqp://b:5672', queueType: 'quorum', queues: [{ role: 'notify', bindings: ROLE_BINDINGS.notify }], retry: { delaysMs: [1000], maxAttempts: 3 } }).vhosts!['/']!
  t.same((vhost.connections as Array<{ url: string }>).map((c) => c.url), ['amqp://a:5672', 'amqp://b:5672'])
  const queues = vhost.queues as Record<string, { options: { arguments: Record<string, unknown> } }>
  t.match(queues['delivertrack.notify']!.options.arguments, { 'x-queue-type': 'quorum', 'x-delivery-limit': DELIVERY_LIMIT, 'x-dead-letter-strategy': 'at-least-once', 'x-dead-letter-routing-key': 'delivertrack.notify.dead' })
  t.same(queues['delivertrack.notify.dead']!.options.arguments, { 'x-queue-type': 'quorum' }, 'the dead letters dead-letter nowhere, so no delivery limit (it would drop them)')
})
