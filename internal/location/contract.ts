// The behaviour every LocationRepository must have, as one tap suite that takes a
// factory. location-postgres.test.ts and location-mongo.test.ts run it.
import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { LocationPoint } from './domain.js'
import type { LocationRepository } from './ports.js'

export interface ContractFixture {
  repo: LocationRepository
  /** A package the repository may record for (PostgreSQL needs its row). */
  newPackage(): Promise<{ id: string; trackingNumber: string }>
}

export type ContractFactory = (t: Test) => Promise<ContractFixture>

const T0 = Date.parse('2024-06-01T00:00:00.000Z')
const at = (s: number) => new Date(T0 + s * 1000)
const pt = (lat: number, lng: number, s: number, extra: Partial<LocationPoint> = {}): LocationPoint => ({ lat, lng, recordedAt: at(s), ...extra })

/**
 * The point `metres` due north of (lat, lng) on a sphere of the earth's equatorial
 * radius, the one earthdistance (6,378,168 m) and MongoDB (6,378,100 m) measure with.
 */
export const north = (lat: number, lng: number, metres: number) => ({ lat: lat + (metres / 6_378_137) * (180 / Math.PI), lng })

export function locationRepositoryContract(t: Test, factory: ContractFactory): void {
  let fx: ContractFixture
  t.before(async () => {
    fx = await factory(t)
  })
  const batch = async (points: LocationPoint[], deviceId = randomUUID(), pkg?: { id: string; trackingNumber: string }) => {
    const p = pkg ?? (await fx.newPackage())
    return { pkg: p, deviceId, result: await fx.repo.record({ packageId: p.id, trackingNumber: p.trackingNumber, deviceId, points }) }
  }

  t.test('insert: every field comes back, newest first', async (t) => {
    const points = [pt(48.1, 11.5, 1, { accuracyM: 4.5, speedMps: 13.9, headingDeg: 270 }), pt(48.2, 11.6, 3), pt(48.15, 11.55, 2, { speedMps: 0 })]
    const { pkg, deviceId, result } = await batch(points)
    t.same(result, { accepted: 3, duplicates: 0, advanced: true })
    const items = await fx.repo.history(pkg.id, { limit: 10 })
    t.same(items.map((i) => i.recordedAt.toISOString()), [at(3), at(2), at(1)].map((d) => d.toISOString()))
    t.same(items[2], { lat: 48.1, lng: 11.5, recordedAt: at(1), accuracyM: 4.5, speedMps: 13.9, headingDeg: 270, deviceId })
    t.same(items[1], { lat: 48.15, lng: 11.55, recordedAt: at(2), speedMps: 0, deviceId }, 'absent optional fields stay absent, zero stays zero')
    t.same(await fx.repo.history((await fx.newPackage()).id, { limit: 10 }), [], 'another package has none')
  })

  t.test('duplicates: same device and recordedAt are counted, not stored twice', async (t) => {
    const points = [pt(1, 1, 10), pt(1, 1.1, 11), pt(1, 1.2, 12)]
    const first = await batch(points)
    const again = await fx.repo.record({ packageId: first.pkg.id, trackingNumber: first.pkg.trackingNumber, deviceId: first.deviceId, points })
    t.same([again.accepted, again.duplicates], [0, 3])
    const mixed = await fx.repo.record({ packageId: first.pkg.id, trackingNumber: first.pkg.trackingNumber, deviceId: first.deviceId, points: [pt(9, 9, 12), pt(1, 1.3, 13)] })
    t.same([mixed.accepted, mixed.duplicates], [1, 1])
    const inBatch = await fx.repo.record({ packageId: first.pkg.id, trackingNumber: first.pkg.trackingNumber, deviceId: first.deviceId, points: [pt(1, 1.4, 14), pt(2, 2, 14)] })
    t.same([inBatch.accepted, inBatch.duplicates], [1, 1], 'a repeat inside one batch is a duplicate too')
    const other = await batch([pt(1, 1, 10)], randomUUID(), first.pkg)
    t.same([other.result.accepted, other.result.duplicates], [1, 0], 'the same time from another device is a new point')
    const items = await fx.repo.history(first.pkg.id, { limit: 100 })
    t.equal(items.length, 6)
    const at12 = items.find((i) => i.recordedAt.getTime() === at(12).getTime())
    t.equal(at12?.lat, 1, 'a duplicate keeps the first values')
  })

  t.test('out of order: stored, but the last position only moves forward', async (t) => {
    const c = { lat: 10, lng: 20 }
    const first = await batch([pt(c.lat, c.lng, 100)])
    t.equal(first.result.advanced, true)
    const older = await fx.repo.record({ packageId: first.pkg.id, trackingNumber: first.pkg.trackingNumber, deviceId: first.deviceId, points: [pt(10.001, 20, 50), pt(10.002, 20, 60)] })
    t.same(older, { accepted: 2, duplicates: 0, advanced: false })
    const hits = await fx.repo.nearby({ ...c, radiusM: 1_000, limit: 10 })
    t.same(hits.map((h) => [h.packageId, h.lat, h.recordedAt.toISOString()]), [[first.pkg.id, 10, at(100).toISOString()]])
    const newer = await fx.repo.record({ packageId: first.pkg.id, trackingNumber: first.pkg.trackingNumber, deviceId: first.deviceId, points: [pt(10.003, 20, 101)] })
    t.equal(newer.advanced, true)
    const [moved] = await fx.repo.nearby({ ...c, radiusM: 1_000, limit: 10 })
    t.same([moved?.lat, moved?.recordedAt.toISOString(), moved?.trackingNumber], [10.003, at(101).toISOString(), first.pkg.trackingNumber])
    t.same((await fx.repo.history(first.pkg.id, { limit: 10 })).map((i) => i.recordedAt.getTime()), [101, 100, 60, 50].map((s) => at(s).getTime()))
  })

  t.test('history window: since inclusive, until exclusive, limit, newest first', async (t) => {
    const { pkg } = await batch(Array.from({ length: 10 }, (_, i) => pt(-33.9, 151.2 + i / 1000, i)))
    const secs = async (w: { since?: number; until?: number; limit: number }) =>
      (await fx.repo.history(pkg.id, { since: w.since === undefined ? undefined : at(w.since), until: w.until === undefined ? undefined : at(w.until), limit: w.limit })).map(
        (i) => (i.recordedAt.getTime() - T0) / 1000,
      )
    t.same(await secs({ since: 3, until: 7, limit: 100 }), [6, 5, 4, 3])
    t.same(await secs({ limit: 2 }), [9, 8])
    t.same(await secs({ since: 8, limit: 100 }), [9, 8])
    t.same(await secs({ until: 2, limit: 100 }), [1, 0])
    t.same(await secs({ until: 8, limit: 3 }), [7, 6, 5], 'paging back with until')
    t.same(await secs({ since: 20, limit: 100 }), [])
  })

  t.test('nearby: nearest first, radius inclusive of what is inside only', async (t) => {
    const c = { lat: 52.52, lng: 13.405 }
    const placed: Array<{ id: string; d: number }> = []
    for (const d of [990, 100, 1_010, 500, 0]) {
      const p = north(c.lat, c.lng, d)
      const { pkg } = await batch([pt(p.lat, p.lng, 1)])
      placed.push({ id: pkg.id, d })
    }
    await fx.newPackage() // a package without any location never shows up
    const idOf = (d: number) => placed.find((p) => p.d === d)!.id
    const hits = await fx.repo.nearby({ ...c, radiusM: 1_000, limit: 50 })
    t.same(hits.map((h) => h.packageId), [0, 100, 500, 990].map(idOf), 'ordered by distance; 1010 m is outside')
    for (const [i, d] of [0, 100, 500, 990].entries()) t.ok(Math.abs(hits[i]!.distanceM - d) < 1, `distance ${hits[i]!.distanceM} is about ${d} m`)
    t.same((await fx.repo.nearby({ ...c, radiusM: 1_000, limit: 2 })).map((h) => h.packageId), [0, 100].map(idOf), 'limit keeps the nearest')
    t.same((await fx.repo.nearby({ ...c, radiusM: 1_020, limit: 50 })).map((h) => h.packageId), [0, 100, 500, 990, 1_010].map(idOf), 'a wider radius takes 1010 m in')
    t.same((await fx.repo.nearby({ ...c, radiusM: 980, limit: 50 })).map((h) => h.packageId), [0, 100, 500].map(idOf), 'a narrower one leaves 990 m out')
  })

  t.test('antimeridian: neighbours across 180° are near', async (t) => {
    const east = await batch([pt(0.5, 179.999, 1)])
    const west = await batch([pt(0.5, -179.999, 1)])
    const far = await batch([pt(0.5, 179, 1)])
    const hits = await fx.repo.nearby({ lat: 0.5, lng: -179.9995, radiusM: 1_000, limit: 10 })
    t.same(hits.map((h) => h.packageId), [west.pkg.id, east.pkg.id])
    t.ok(Math.abs(hits[1]!.distanceM - 167) < 2, `across the antimeridian: ${hits[1]!.distanceM} m`)
    t.notOk(hits.some((h) => h.packageId === far.pkg.id))
    const edge = await batch([pt(-0.5, 180, 1), pt(-0.5, -180, 2)])
    t.same(edge.result.accepted, 2)
    t.same((await fx.repo.history(edge.pkg.id, { limit: 5 })).map((i) => i.lng), [-180, 180], 'lng ±180 round-trip')
  })

  t.test('poles: every longitude meets at the pole', async (t) => {
    const a = await batch([pt(89.9995, 0, 1)])
    const b = await batch([pt(89.9995, 180, 1)])
    const pole = await batch([pt(90, 45, 1)])
    const south = await batch([pt(-90, 0, 1)])
    const hits = await fx.repo.nearby({ lat: 90, lng: -120, radiusM: 200, limit: 10 })
    t.equal(hits[0]?.packageId, pole.pkg.id, 'the pole itself is nearest, whatever its longitude')
    t.same(new Set(hits.slice(1).map((h) => h.packageId)), new Set([a.pkg.id, b.pkg.id]), 'points on opposite meridians are both about 56 m away')
    t.notOk(hits.some((h) => h.packageId === south.pkg.id))
    const across = await fx.repo.nearby({ lat: 89.9995, lng: 0, radiusM: 150, limit: 10 })
    t.ok(across.some((h) => h.packageId === b.pkg.id), 'across the pole, 111 m apart')
    t.same((await fx.repo.history(south.pkg.id, { limit: 1 }))[0]?.lat, -90)
  })
}
