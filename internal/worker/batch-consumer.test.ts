import { randomUUID } from 'node:crypto'
import amqplib from 'amqplib'
import t from 'tap'
import { RascalBus } from '../platform/bus/rascal.js'
import { workerQueueNames, workerTopology } from '../platform/bus/worker-topology.js'
import type { TestLike } from '../platform/testing/harness.js'
import type { EventEnvelope } from '../realtime/envelope.js'
import type { Connection as CallbackConnection } from 'amqplib/callback_api'
import { BatchConsumer, type BatchBus } from './batch-consumer.js'
import type { Delivery, RoleHandler } from './delivery.js'
import { deleteQueuesAfter, eventually, publishRaw, queueDepths, testVhost } from './testing/broker.js'
import { silentLog } from './testing/worker.js'

const amqpUrl = await testVhost(t)
const DELAYS = [50, 100]
const names = workerQueueNames('archive', DELAYS)

function envelope(n: number): EventEnvelope {
  const at = new Date().toISOString()
  return { id: randomUUID(), type: 'package.created', trackingNumber: `DT${String(n).padStart(10, '0')}X`, seq: 1, occurredAt: at, recordedAt: at, data: { n } } as EventEnvelope
}

/** The archive role's queues on the test vhost, a bus on them, and a BatchConsumer over `handler`. */
async function setup(t: TestLike, handler: RoleHandler, maxAttempts = 3, reconnectMs = 100) {
  deleteQueuesAfter(t, amqpUrl, [names.work, names.dead, ...names.delays])
  const bus = new RascalBus({ url: amqpUrl, instanceId: `batch-${randomUUID().slice(0, 6)}`, hub: false, topology: workerTopology({ roles: ['archive'], delaysMs: DELAYS, consume: true }), log: silentLog })
  await bus.start()
  t.teardown(() => bus.close())
  // The consumer's connections, as the bus hands them out, so a test can cut the current one.
  const connections: CallbackConnection[] = []
  const recording: BatchBus = {
    connect: async () => {
      const connection = await bus.connect()
      connections.push(connection)
      return connection
    },
    forward: (...args) => bus.forward(...args),
  }
  const consumer = new BatchConsumer({ bus: recording, handler, names, prefetch: 500, maxAttempts, delaysMs: DELAYS, log: silentLog, reconnectMs })
  /** Closes the consumer's connection under it, as a crash or a broker restart would. */
  const cut = () => new Promise<void>((resolve) => connections.at(-1)!.close(() => resolve()))
  return { bus, consumer, cut }
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
  const { consumer } = await setup(t, handler)
  // All queued before the consumer starts, so it holds hundreds at once.
  await publishAll(Array.from({ length: 300 }, (_, i) => envelope(i)))
  await consumer.start()
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
  const { consumer, cut } = await setup(t, handler, 3, 60_000)
  await consumer.start()
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
  const { consumer } = await setup(t, handler, 3)
  await consumer.start()
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
  const { consumer } = await setup(t, { role: 'archive', handle: ({ event }: Delivery) => (handled.push(event.id), Promise.resolve()) })
  await consumer.start()
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
  const { consumer, cut } = await setup(t, { role: 'archive', handle: ({ event }: Delivery) => (handled.add(event.id), Promise.resolve()) }, 3, 100)
  await consumer.start()
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
