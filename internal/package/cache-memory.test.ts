import t from 'tap'
import { ManualClock } from '../platform/testing/manual-clock.js'
import { cachedPackage, packageCacheContract } from './cache-contract.js'
import { MemoryPackageCache } from './cache-memory.js'

t.test('package cache contract in memory', async (t) => {
  packageCacheContract(t, async (_t, ttlSeconds) => {
    const clock = new ManualClock()
    return { cache: new MemoryPackageCache({ ttlSeconds, clock }), elapse: async (ms) => clock.advance(ms) }
  })
})

t.test('the memory cache holds at most maxEntries numbers, the least recently read going first', async (t) => {
  const cache = new MemoryPackageCache({ ttlSeconds: 60, maxEntries: 2 })
  const fill = async (tn: string) => cache.setPackage(cachedPackage(tn, 1), await cache.generation(tn))
  await fill('BOUND0000001')
  await fill('BOUND0000002')
  await cache.getPackage('BOUND0000001')
  await fill('BOUND0000003')
  t.ok(await cache.getPackage('BOUND0000001'), 'the one read lately stays')
  t.equal(await cache.getPackage('BOUND0000002'), undefined, 'the least recently used is gone')
  t.ok(await cache.getPackage('BOUND0000003'))
})

t.test('a generation pushed out by newer ones still drops a fill that read it before its invalidation', async (t) => {
  const cache = new MemoryPackageCache({ ttlSeconds: 60, maxEntries: 2 })
  const before = await cache.generation('FORGET000001')
  await cache.invalidate(['FORGET000001'])
  await cache.invalidate(['FORGET000002', 'FORGET000003']) // pushes FORGET000001's generation out
  await cache.setPackage(cachedPackage('FORGET000001', 1), before)
  t.equal(await cache.getPackage('FORGET000001'), undefined, 'the old state is not stored')
  await cache.setPackage(cachedPackage('FORGET000001', 2), await cache.generation('FORGET000001'))
  t.equal((await cache.getPackage('FORGET000001'))?.version, 2, 'a fill with the generation read now is')
})
