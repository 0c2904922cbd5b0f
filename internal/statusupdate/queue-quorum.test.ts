import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { eventually, testVhost } from '../platform/testing/broker.js'
import type { QueuedUpdate } from './domain.js'
import { RabbitStatusQueue } from './queue-rabbitmq.js'
import { DEAD_QUEUE, INTAKE_QUEUE, partitionQueue, retryName } from './queue-topology.js'

// RABBITMQ_QUEUE_TYPE=quorum for the status updates: the same partitions, retries
// and dead letters, on replicated queues (a vhost of this file's own).
const run = promisify(execFile)
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }
const vhost = await testVhost(t)

t.test('on quorum queues, updates keep their order per package through a retry delay', async (t) => {
  const queue = new RabbitStatusQueue({ url: vhost, queueType: 'quorum', partitions: 2, retry: { delaysMs: [100], maxAttempts: 2 }, prefetch: 8, log: quiet })
  await queue.start()
  t.teardown(() => queue.close())
  const update = (tn: string, i: number): QueuedUpdate => ({ clientId: 'svc', update: { externalId: `${tn}-${i}`, trackingNumber: tn, status: 'in_transit', occurredAt: new Date(Date.UTC(2026, 0, 1, 8, i)) } })
  const sent = ['QQ0000000001A', 'QQ0000000002A', 'QQ0000000003A'].flatMap((tn) => [1, 2, 3, 4].map((i) => update(tn, i)))
  await queue.publish(sent)
  const applied: string[] = []
  let failedOnce = false
  const consumer = await queue.consume(async (m) => {
    // One update fails once: it waits out the delay queue and comes back to its partition.
    if (m.update.externalId === 'QQ0000000002A-1' && !failedOnce) {
      failedOnce = true
      throw new Error('database blip')
    }
    applied.push(m.update.externalId)
  })
  t.teardown(() => consumer.stop())
  await eventually(() => applied.length === sent.length, 'every update to be applied')
  t.equal(consumer.counters.retried, 1, 'the failed update was retried once')
  for (const tn of ['QQ0000000001A', 'QQ0000000003A']) {
    t.same(applied.filter((id) => id.startsWith(tn)), [1, 2, 3, 4].map((i) => `${tn}-${i}`), `${tn}: in queue order`)
  }
  t.same(applied.filter((id) => id.startsWith('QQ0000000002A')).sort(), [1, 2, 3, 4].map((i) => `QQ0000000002A-${i}`), 'the retried package: every update once')

  const { stdout } = await run('rabbitmqctl', ['-q', 'list_queues', '-p', decodeURIComponent(new URL(vhost).pathname.slice(1)), 'name', 'type', 'arguments'])
  const types = Object.fromEntries(stdout.trim().split('\n').slice(1).map((line) => line.split('\t')).map(([name, type, args]) => [name, { type, args }]))
  for (const name of [INTAKE_QUEUE, partitionQueue(0), partitionQueue(1), retryName(100), DEAD_QUEUE]) t.equal(types[name]?.type, 'quorum', `${name} is a quorum queue`)
  t.notMatch(types[partitionQueue(0)]?.args, 'x-delivery-limit', 'a partition has no delivery limit: an update put back while the broker fails over waits, in order')
  t.match(types[partitionQueue(0)]?.args, '{"x-dead-letter-strategy","at-least-once"}')
  t.match(types[retryName(100)]?.args, '{"x-dead-letter-strategy","at-least-once"}', 'a delay hands its messages back at least once')
})
