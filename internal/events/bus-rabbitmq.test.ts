import { randomBytes } from 'node:crypto'
import t from 'tap'
import { deleteQueuesAfter, eventually, testVhost } from '../platform/testing/broker.js'
import { busContract, CONTRACT_QUEUES, CONTRACT_RETRY } from './bus-contract.js'
import { RabbitBus } from './bus-rabbitmq.js'
import type { QueueType } from './bus-rabbitmq-topology.js'
import { roleQueues } from './topology.js'

const log = { info: () => undefined, warn: () => undefined, error: () => undefined }
const amqpUrl = await testVhost(t)
const allQueues = CONTRACT_QUEUES.flatMap(({ role }) => {
  const n = roleQueues(role, CONTRACT_RETRY.delaysMs)
  return [n.work, ...n.delays, n.dead]
})

// The same contract on classic queues (one node) and quorum queues (RABBITMQ_QUEUE_TYPE=quorum).
for (const queueType of ['classic', 'quorum'] as const) {
  t.test(`RabbitMQ bus, ${queueType} queues`, async (t) => {
    busContract(t, async (t) => {
      // The queues have fixed names: each test starts with none.
      deleteQueuesAfter(t, amqpUrl, allQueues)
      const open = async (hub: boolean) => {
        const bus = new RabbitBus({ url: amqpUrl, queueType, instanceId: `contract-${randomBytes(3).toString('hex')}`, hub, queues: CONTRACT_QUEUES, retry: CONTRACT_RETRY, log })
        await bus.start()
        t.teardown(() => bus.close())
        return bus
      }
      const gateway = await open(true)
      return { gateway, worker: () => open(false) }
    })
  })
}

t.test('a process configured with the other queue type says what to do instead of failing quietly', async (t) => {
  deleteQueuesAfter(t, amqpUrl, allQueues)
  const open = (queueType: QueueType, warnings: string[] = []) =>
    new RabbitBus({ url: amqpUrl, queueType, instanceId: `mixed-${queueType}`, hub: false, queues: CONTRACT_QUEUES, retry: CONTRACT_RETRY, log: { ...log, warn: (o: { err?: string }) => void warnings.push(o.err ?? '') } })
  const quorum = open('quorum')
  await quorum.start()
  await quorum.close()
  const warnings: string[] = []
  const classic = open('classic', warnings)
  void classic.start()
  t.teardown(() => classic.close())
  const said = await eventually(() => warnings.find((w) => w.includes('inequivalent arg')), 'the refusal to be logged')
  t.match(said, /a queue's type cannot change; drain and delete the old queues, or use a new vhost/, 'the log line says how to switch')
  t.equal(classic.connected, false, 'and the process does not pretend to be connected')
})
