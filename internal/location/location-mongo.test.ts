import { randomBytes, randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { connectMongo } from '../platform/mongo/client.js'
import { locationRepositoryContract } from './contract.js'
import { MongoLocationRepository } from './mongo.js'

/**
 * Where the MongoDB for this suite is: MONGO_URL, else a testcontainers MongoDB when
 * a Docker engine answers, else nowhere (the suite is skipped, saying why).
 */
async function mongoUrl(t: Test): Promise<{ url?: string; reason?: string }> {
  if (process.env.MONGO_URL) return { url: process.env.MONGO_URL }
  let tc: typeof import('testcontainers')
  try {
    tc = await import('testcontainers')
  } catch (err) {
    return { reason: `MONGO_URL is not set and testcontainers cannot be loaded (${(err as Error).message})` }
  }
  try {
    await tc.getContainerRuntimeClient()
  } catch {
    return { reason: 'MONGO_URL is not set and no Docker engine answers for testcontainers' }
  }
  const container = await new tc.GenericContainer('mongo:7').withExposedPorts(27017).withWaitStrategy(tc.Wait.forLogMessage(/Waiting for connections/)).start()
  t.teardown(() => container.stop())
  return { url: `mongodb://${container.getHost()}:${container.getMappedPort(27017)}` }
}

t.test('MongoDB location repository', async (t) => {
  const { url, reason } = await mongoUrl(t)
  if (!url) {
    t.comment(`MongoDB skipped: ${reason}`)
    t.test('location repository contract on MongoDB', { skip: `MongoDB skipped: ${reason}` }, async () => undefined)
    return
  }
  locationRepositoryContract(t, async (t) => {
    // A database of this file's own, dropped at the end.
    const mongo = await connectMongo(url, `delivertrack_test_${randomBytes(5).toString('hex')}`)
    t.teardown(async () => {
      await mongo.db.dropDatabase()
      await mongo.client.close()
    })
    const repo = await MongoLocationRepository.open(mongo.db)
    let n = 0
    return { repo, newPackage: async () => ({ id: randomUUID(), trackingNumber: `MG${Date.now()}${++n}` }) }
  })
})
