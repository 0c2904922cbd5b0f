import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import type { Package } from './domain.js'
import { RedisPackageCache } from './cache-redis.js'

const pkg = (tn: string, version: number): Package => ({
  id: '6f1c1f4e-8d2a-4b4e-9a51-3c1d2b7e9f00',
  trackingNumber: tn,
  status: 'in_transit',
  carrier: 'delivertrack',
  sender: { name: 'S' },
  recipient: { name: 'R', phone: '+1 555 0100' },
  estimatedDelivery: new Date('2030-01-02T03:04:05.678Z'),
  lastLocation: { lat: 1.5, lng: 2.5, recordedAt: new Date('2029-12-31T00:00:00.000Z') },
  version,
  seq: version,
  createdAt: new Date('2029-01-01T00:00:00.000Z'),
  updatedAt: new Date('2029-06-01T00:00:00.000Z'),
})
const view = (status: Package['status']) => ({
  body: JSON.stringify({ trackingNumber: 'VIEW00000001', status, carrier: 'delivertrack', estimatedDelivery: null, lastUpdatedAt: '2029-06-01T00:00:00.000Z', events: [] }),
  etag: `"${status}"`,
})

t.test('RedisPackageCache', async (t) => {
  const { redis } = await isolate(t)
  const cache = new RedisPackageCache(redis, 120)

  t.test('a fill is read back with its dates revived, and expires', async (t) => {
    t.equal(await cache.getPackage('ROUND0000001'), undefined, 'a miss is undefined')
    await cache.setPackage(pkg('ROUND0000001', 3), await cache.generation('ROUND0000001'))
    const back = await cache.getPackage('ROUND0000001')
    t.same(back, pkg('ROUND0000001', 3))
    t.type(back?.createdAt, Date)
    t.type(back?.lastLocation?.recordedAt, Date)
    const ttl = await redis.ttl('pkg:ROUND0000001')
    t.ok(ttl > 0 && ttl <= 120, `ttl ${ttl}`)
    t.same(cache.counters, { hits: 1, misses: 1 })
  })

  t.test('invalidate drops both entries and bumps the generation', async (t) => {
    const tn = 'VIEW00000001'
    const g0 = await cache.generation(tn)
    await cache.setPackage(pkg(tn, 1), g0)
    await cache.setPublicView(tn, view('pending'), g0)
    t.same(await cache.getPublicView(tn), view('pending'))
    await cache.invalidate([tn])
    t.equal(await cache.getPackage(tn), undefined)
    t.equal(await cache.getPublicView(tn), undefined)
    const g1 = await cache.generation(tn)
    t.not(g1, g0, 'a new generation')
    t.ok((await redis.ttl(`pkg-gen:${tn}`)) > 0, 'the generation key expires too')
  })

  t.test('one invalidation of several numbers drops every entry and bumps every generation', async (t) => {
    const tns = ['MANY00000001', 'MANY00000002', 'MANY00000003']
    const before = await Promise.all(tns.map((tn) => cache.generation(tn)))
    for (const [i, tn] of tns.entries()) {
      await cache.setPackage(pkg(tn, 1), before[i]!)
      await cache.setPublicView(tn, view('pending'), before[i]!)
    }
    await cache.setPackage(pkg('KEEP00000001', 1), await cache.generation('KEEP00000001'))
    await cache.invalidate(tns)
    for (const [i, tn] of tns.entries()) {
      t.equal(await cache.getPackage(tn), undefined, `${tn}: package gone`)
      t.equal(await cache.getPublicView(tn), undefined, `${tn}: view gone`)
      t.not(await cache.generation(tn), before[i], `${tn}: new generation`)
    }
    t.equal((await cache.getPackage('KEEP00000001'))?.version, 1, 'a number not named keeps its entry')
  })

  t.test('a fill that read its generation before an invalidation is dropped', async (t) => {
    const tn = 'RACE00000009'
    const before = await cache.generation(tn)
    await cache.invalidate([tn]) // someone's write commits while we load
    await cache.setPackage(pkg(tn, 1), before)
    await cache.setPublicView(tn, view('pending'), before)
    t.equal(await cache.getPackage(tn), undefined, 'the old package is not stored')
    t.equal(await cache.getPublicView(tn), undefined, 'nor the old view')
    const after = await cache.generation(tn)
    await cache.setPackage(pkg(tn, 2), after)
    t.equal((await cache.getPackage(tn))?.version, 2, 'a fill with the current generation is stored')
    await cache.setPackage(pkg(tn, 3), after)
    t.equal((await cache.getPackage(tn))?.version, 3, 'and refreshed while nothing invalidates')
  })
})
