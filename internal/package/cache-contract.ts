// The behaviour every PackageCache must have, as one tap suite that takes a
// factory. cache-redis.test.ts and cache-memory.test.ts run it.
import type { Test } from 'tap'
import type { Package } from './domain.js'
import type { PackageCache, PublicViewEntry } from './ports.js'

export interface CacheContractFixture {
  /** The cache under test, with the hit and miss counts `/stats` reports. */
  cache: PackageCache & { readonly counters: { hits: number; misses: number } }
  /** Lets `ms` of the cache's time pass (a manual clock, or Redis keys' TTLs run down). */
  elapse(ms: number): Promise<void>
}

/** Builds a cache whose entries live `ttlSeconds`, with data of the test's own. */
export type CacheContractFactory = (t: Test, ttlSeconds: number) => Promise<CacheContractFixture>

const TTL_S = 120

export const cachedPackage = (tn: string, version: number): Package => ({
  id: '6f1c1f4e-8d2a-4b4e-9a51-3c1d2b7e9f00',
  trackingNumber: tn,
  status: 'in_transit',
  carrier: 'delivertrack',
  deliveryOption: 'standard',
  paymentStatus: 'not_required',
  sender: { name: 'S' },
  recipient: { name: 'R', phone: '+1 555 0100' },
  estimatedDelivery: new Date('2030-01-02T03:04:05.678Z'),
  lastLocation: { lat: 1.5, lng: 2.5, recordedAt: new Date('2029-12-31T00:00:00.000Z') },
  version,
  seq: version,
  createdAt: new Date('2029-01-01T00:00:00.000Z'),
  updatedAt: new Date('2029-06-01T00:00:00.000Z'),
})

const view = (tn: string, status: Package['status']): PublicViewEntry => ({
  body: JSON.stringify({ trackingNumber: tn, status, carrier: 'delivertrack', estimatedDelivery: null, lastUpdatedAt: '2029-06-01T00:00:00.000Z', events: [] }),
  etag: `"${status}"`,
})

export function packageCacheContract(t: Test, factory: CacheContractFactory): void {
  let fx: CacheContractFixture
  t.before(async () => {
    fx = await factory(t, TTL_S)
  })
  /** Fills both entries of the number as a reader does: generation first, then the fill. */
  const fill = async (tn: string, version: number, status: Package['status'] = 'pending') => {
    const generation = await fx.cache.generation(tn)
    await fx.cache.setPackage(cachedPackage(tn, version), generation)
    await fx.cache.setPublicView(tn, view(tn, status), generation)
  }

  t.test('a fill is read back whole, dates as dates, and hits and misses are counted', async (t) => {
    const { hits, misses } = fx.cache.counters
    t.equal(await fx.cache.getPackage('ROUND0000001'), undefined, 'a miss is undefined')
    t.equal(await fx.cache.getPublicView('ROUND0000001'), undefined)
    await fill('ROUND0000001', 3)
    const back = await fx.cache.getPackage('ROUND0000001')
    t.same(back, cachedPackage('ROUND0000001', 3))
    t.type(back?.createdAt, Date)
    t.type(back?.estimatedDelivery, Date)
    t.type(back?.lastLocation?.recordedAt, Date)
    t.same(await fx.cache.getPublicView('ROUND0000001'), view('ROUND0000001', 'pending'), 'the view: the very body and etag')
    t.same(fx.cache.counters, { hits: hits + 2, misses: misses + 2 })
  })

  t.test('what a caller does with a value it read or stored does not change the cache', async (t) => {
    const stored = cachedPackage('COPY00000001', 1)
    await fx.cache.setPackage(stored, await fx.cache.generation('COPY00000001'))
    stored.status = 'delivered'
    const read = await fx.cache.getPackage('COPY00000001')
    t.equal(read?.status, 'in_transit', 'changing the object after storing it')
    read!.recipient.name = 'Mallory'
    read!.createdAt.setUTCFullYear(1999)
    t.same(await fx.cache.getPackage('COPY00000001'), cachedPackage('COPY00000001', 1), 'changing the object read')
  })

  t.test('entries expire after the TTL', async (t) => {
    await fill('EXPIRE000001', 1)
    await fx.elapse((TTL_S - 1) * 1_000)
    t.equal((await fx.cache.getPackage('EXPIRE000001'))?.version, 1, 'still there a second before')
    t.ok(await fx.cache.getPublicView('EXPIRE000001'), 'the view too')
    await fx.elapse(1_001)
    t.equal(await fx.cache.getPackage('EXPIRE000001'), undefined, 'gone once the TTL has passed')
    t.equal(await fx.cache.getPublicView('EXPIRE000001'), undefined)
    await fill('EXPIRE000001', 2)
    t.equal((await fx.cache.getPackage('EXPIRE000001'))?.version, 2, 'and filled again')
  })

  t.test('invalidate drops both entries and bumps the generation', async (t) => {
    const tn = 'VIEW00000001'
    const g0 = await fx.cache.generation(tn)
    await fill(tn, 1)
    await fx.cache.invalidate([tn])
    t.equal(await fx.cache.getPackage(tn), undefined)
    t.equal(await fx.cache.getPublicView(tn), undefined)
    const g1 = await fx.cache.generation(tn)
    t.not(g1, g0, 'a new generation')
    await fx.cache.invalidate([tn])
    t.not(await fx.cache.generation(tn), g1, 'and another with every invalidation')
    await fx.cache.invalidate([])
  })

  t.test('one invalidation of several numbers drops every entry and bumps every generation', async (t) => {
    const tns = ['MANY00000001', 'MANY00000002', 'MANY00000003']
    const before = await Promise.all(tns.map((tn) => fx.cache.generation(tn)))
    for (const tn of tns) await fill(tn, 1)
    await fill('KEEP00000001', 1)
    await fx.cache.invalidate(tns)
    for (const [i, tn] of tns.entries()) {
      t.equal(await fx.cache.getPackage(tn), undefined, `${tn}: package gone`)
      t.equal(await fx.cache.getPublicView(tn), undefined, `${tn}: view gone`)
      t.not(await fx.cache.generation(tn), before[i], `${tn}: new generation`)
    }
    t.equal((await fx.cache.getPackage('KEEP00000001'))?.version, 1, 'a number not named keeps its entry')
    t.ok(await fx.cache.getPublicView('KEEP00000001'), 'and its view')
  })

  t.test('a fill that read its generation before an invalidation is dropped', async (t) => {
    const tn = 'RACE00000009'
    const before = await fx.cache.generation(tn)
    await fx.cache.invalidate([tn]) // someone's write commits while we load
    await fx.cache.setPackage(cachedPackage(tn, 1), before)
    await fx.cache.setPublicView(tn, view(tn, 'pending'), before)
    t.equal(await fx.cache.getPackage(tn), undefined, 'the old package is not stored')
    t.equal(await fx.cache.getPublicView(tn), undefined, 'nor the old view')
    const after = await fx.cache.generation(tn)
    await fx.cache.setPackage(cachedPackage(tn, 2), after)
    t.equal((await fx.cache.getPackage(tn))?.version, 2, 'a fill with the current generation is stored')
    await fx.cache.setPackage(cachedPackage(tn, 3), after)
    t.equal((await fx.cache.getPackage(tn))?.version, 3, 'and refreshed while nothing invalidates')
  })

  t.test('a fill as late as a whole TTL after an invalidation is still dropped', async (t) => {
    const tn = 'SLOW00000001'
    const before = await fx.cache.generation(tn)
    await fx.cache.invalidate([tn])
    await fx.elapse(TTL_S * 1_000)
    await fx.cache.setPackage(cachedPackage(tn, 1), before)
    t.equal(await fx.cache.getPackage(tn), undefined, 'the generation outlives a slow load')
  })
}
