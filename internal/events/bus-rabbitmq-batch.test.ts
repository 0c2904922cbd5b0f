import { randomUUID } from 'node:crypto'
import amqplib from 'amqplib'
import t from 'tap'
import { deleteQueuesAfter, eventually, publishRaw, queueDepths, testVhost } from '../platform/testing/broker.js'
import type { TestLike } from '../platform/testing/harness.js'
import type { RoleConsumer } from './bus.js'
import { RabbitBus } from './bus-rabbitmq.js'
import type { RabbitBatchConsumer } from './bus-rabbitmq-batch.js'
import type { EventEnvelope } from './envelope.js'
import type { Delivery, RoleHandler } from './roles.js'
import { ROLE_BINDINGS, roleQueues } from './topology.js'

// The RabbitMQ adapter's batched consumer (the archive's): what the shared bus
// contract cannot see, such as acknowledgements held back behind unfinished work.

const amqpUrl = await testVhost(t)
const DELAYS = [50, 100]
const names = roleQueues('archive', DELAYS)
const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined }

function envelope(n: number): EventEnvelope {
  const at = new Date().toISOString()
  return { id: randomUUID(), type: 'package.created', trackingNumber: `DT${String(n).padStart(10, '0')}X`, seq: 1, occurredAt: at, recordedAt: at, data: { n } }
}

/** The archive role's queues on the test vhost and a bus on them; `consume` starts the batched consumer over `handler`. */
async function setup(t: TestLike, handler: RoleHandler, maxAttempts = 3, reconnectMs = 100) {
  deleteQueuesAfter(t, amqpUrl, [names.work, names.dead, ...names.delays])
  const bus = new RabbitBus({
    url: amqpUrl,
    instanceId: `batch-${randomUUID().slice(0, 6)}`,
    hub: false,
    queues: [{ role: 'archive', bindings: ROLE_BINDINGS.archive }],
    retry: { delaysMs: DELAYS, maxAttempts },
    reconnectMs,
    log: silentLog,
  })
  await bus.start()
  t.teardown(() => bus.close())
  let consumer: RoleConsumer | undefined
  const consume = async () => (consumer = await bus.consume(handler, { prefetch: 500, batched: true }))
  /** Closes the consumer's connection under it, as a crash or a broker restart would. */
  const cut = () => new Promise<void>((resolve) => (consumer as RabbitBatchConsumer).connection!.close(() => resolve()))
  return { bus, consume, cut }
}

async function publishAll(events: EventEnvelope[]): Promise<void> {
  const connection = await amqplib.connect(amqpUrl)
  const channel = await connection.createConfirmChannel()
  for (const e of events) channel.publish('delivertrack.events', e.type, Buffer.from(JSON.stringify(e)), { persistent: true, contentType: 'application/json', messageId: e.id })
  await channel.waitForConfirms()
  await connection.close()
}

/** Ready messages in the work queue. */
async function workQueue(): Promise<number> {
  return (await queueDepths(amqpUrl, [names.work]))[names.work]!
}

t.test('every message is acknowledged once its work is done, whatever order the work finishes in', async (t) => {
  const seen: number[] = []
  const handler: RoleHandler = {
    role: 'archive',
    // Each event finishes after a delay of its own, so later deliveries often finish first.
    handle: ({ event }: Delivery) => new Promise((resolve) => setTimeout(() => {
      seen.push((event.data as { n: number }).n)
      resolve()
    }, Math.floor(Math.random() * 40))),
  }
  const { consume } = await setup(t, handler)
  // All queued before the consumer starts, so it holds hundreds at once.
  await publishAll(Array.from({ length: 300 }, (_, i) => envelope(i)))
  const consumer = await consume()
  await eventually(() => consumer.counters.acked === 300, 'all 300 handled')
  t.not(seen.join(','), [...seen].sort((a, b) => a - b).join(','), 'the work finished out of delivery order')
  await consumer.stop()
  // Anything unacknowledged would be back in the queue once the consumer's channel is closed.
  t.equal(await workQueue(), 0, 'nothing left or requeued after a graceful stop')
  t.same(consumer.counters, { acked: 300, retried: 0, deadLettered: 0 })
})

t.test('a message waits for every earlier one: unfinished work keeps later messages unacknowledged', async (t) => {
  let release: (() => void) | undefined
  const handled: number[] = []
  const handler: RoleHandler = {
    role: 'archive',
    handle: ({ event }: Delivery) => {
      const n = (event.data as { n: number }).n
      handled.push(n)
      // The first event's work hangs; the other nine finish at once.
      return n === 0 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()
    },
  }
  // No reconnect within the test: what the broker does with the cut channel's messages stays visible.
  const { consume, cut } = await setup(t, handler, 3, 60_000)
  const consumer = await consume()
  for (let i = 0; i < 10; i++) {
    const e = envelope(i)
    await publishRaw(amqpUrl, e.type, e, e.id)
  }
  await eventually(() => handled.length === 10 && consumer.counters.acked === 9, 'nine of ten finished')
  t.equal(await workQueue(), 0, 'all ten delivered, none ready')
  // Cut the consumer's connection as a crash would: the broker requeues what was not acknowledged.
  await cut()
  await eventually(async () => (await workQueue()) === 10, 'all ten back in the queue, the nine finished ones included')
  release?.()
  await consumer.stop()
})

t.test('a failure waits in the delay queues and comes back with the next attempt; the last attempt is dead-lettered', async (t) => {
  const attempts: Array<[number, boolean]> = []
  const handler: RoleHandler = {
    role: 'archive',
    handle: ({ attempt, final }: Delivery) => {
      attempts.push([attempt, final])
      return Promise.reject(new Error('S3 is down'))
    },
  }
  const { consume } = await setup(t, handler, 3)
  const consumer = await consume()
  const e = envelope(1)
  await publishRaw(amqpUrl, e.type, e, e.id)
  await eventually(() => consumer.counters.deadLettered === 1, 'the event dead-lettered')
  t.same(attempts, [[1, false], [2, false], [3, true]], 'three attempts, the last one marked final')
  t.same(consumer.counters, { acked: 0, retried: 2, deadLettered: 1 })
  await consumer.stop()
  t.same(await queueDepths(amqpUrl, [names.work, names.dead]), { [names.work]: 0, [names.dead]: 1 }, 'only the dead letter is left')
})

t.test('a message that is not an event envelope is dead-lettered at once, and the rest go on', async (t) => {
  const handled: string[] = []
  const { consume } = await setup(t, { role: 'archive', handle: ({ event }: Delivery) => (handled.push(event.id), Promise.resolve()) })
  const consumer = await consume()
  await publishRaw(amqpUrl, 'package.created', Buffer.from('{not json'))
  await publishRaw(amqpUrl, 'package.created', { hello: 'world' })
  const e = envelope(2)
  await publishRaw(amqpUrl, e.type, e, e.id)
  await eventually(() => consumer.counters.acked === 1 && consumer.counters.deadLettered === 2, 'one handled, two dead-lettered')
  t.same(handled, [e.id])
  await consumer.stop()
  t.same(await queueDepths(amqpUrl, [names.work, names.dead]), { [names.work]: 0, [names.dead]: 2 })
})

t.test('after its connection is lost the consumer reopens and goes on consuming', async (t) => {
  const handled = new Set<string>()
  const { consume, cut } = await setup(t, { role: 'archive', handle: ({ event }: Delivery) => (handled.add(event.id), Promise.resolve()) }, 3, 100)
  const consumer = await consume()
  const first = Array.from({ length: 5 }, (_, i) => envelope(i))
  await publishAll(first)
  await eventually(() => consumer.counters.acked === 5, 'the first five handled')
  await cut()
  const second = Array.from({ length: 5 }, (_, i) => envelope(10 + i))
  await publishAll(second)
  await eventually(() => [...first, ...second].every((e) => handled.has(e.id)), 'the next five handled on the reopened channel')
  await consumer.stop()
  t.equal(await workQueue(), 0, 'nothing left behind')
})
