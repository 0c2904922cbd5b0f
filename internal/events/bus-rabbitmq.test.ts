import { randomBytes } from 'node:crypto'
import t from 'tap'
import { deleteQueuesAfter, testVhost } from '../platform/testing/broker.js'
import { busContract, CONTRACT_QUEUES, CONTRACT_RETRY } from './bus-contract.js'
import { RabbitBus } from './bus-rabbitmq.js'
import { roleQueues } from './topology.js'

const log = { info: () => undefined, warn: () => undefined, error: () => undefined }
const amqpUrl = await testVhost(t)
const allQueues = CONTRACT_QUEUES.flatMap(({ role }) => {
  const n = roleQueues(role, CONTRACT_RETRY.delaysMs)
  return [n.work, ...n.delays, n.dead]
})

t.test('RabbitMQ bus', async (t) => {
  busContract(t, async (t) => {
    // The queues have fixed names: each test starts with none.
    deleteQueuesAfter(t, amqpUrl, allQueues)
    const open = async (hub: boolean) => {
      const bus = new RabbitBus({ url: amqpUrl, instanceId: `contract-${randomBytes(3).toString('hex')}`, hub, queues: CONTRACT_QUEUES, retry: CONTRACT_RETRY, log })
      await bus.start()
      t.teardown(() => bus.close())
      return bus
    }
    const gateway = await open(true)
    return { gateway, worker: () => open(false) }
  })
})
