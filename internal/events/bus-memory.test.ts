import t from 'tap'
import { busContract, CONTRACT_QUEUES, CONTRACT_RETRY } from './bus-contract.js'
import { MemoryBus } from './bus-memory.js'

const log = { info: () => undefined, warn: () => undefined, error: () => undefined }

t.test('in-memory bus', async (t) => {
  busContract(t, async (t) => {
    const bus = new MemoryBus({ queues: CONTRACT_QUEUES, retry: CONTRACT_RETRY, log })
    await bus.start()
    t.teardown(() => bus.close())
    return { gateway: bus, worker: async () => bus }
  })
})
