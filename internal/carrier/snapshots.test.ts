import t from 'tap'
import { afterShipSnapshot, type AfterShipTracking } from './aftership.js'
import { toUtcIso } from './domain.js'
import { easyPostSnapshot } from './easypost.js'

const tracking = (over: Partial<AfterShipTracking> = {}): AfterShipTracking => ({
  tracking_number: 'SBXDELIVERED0001',
  slug: 'ups',
  tag: 'InTransit',
  expected_delivery: '2026-11-05T00:00:00Z',
  checkpoints: [
    { checkpoint_time: '2026-11-02T10:00:00+00:00', message: 'Picked up', city: 'Chicago', country_iso3: 'USA', coordinate: { latitude: 41.88, longitude: -87.63 }, tag: 'InTransit' },
    { checkpoint_time: '2026-11-01T09:00:00Z', message: 'Label created', tag: 'InfoReceived' },
  ],
  ...over,
})

t.test('a snapshot keeps checkpoints oldest first with place and coordinates', async (t) => {
  const s = afterShipSnapshot(tracking())
  t.equal(s.status, 'in_transit')
  t.equal(s.estimatedDelivery, '2026-11-05T00:00:00.000Z')
  t.match(s.checkpoints, [
    { occurredAt: '2026-11-01T09:00:00.000Z', message: 'Label created', status: 'info_received' },
    { occurredAt: '2026-11-02T10:00:00.000Z', message: 'Picked up', city: 'Chicago', country: 'USA', lat: 41.88, lng: -87.63, status: 'in_transit' },
  ])
  t.notOk('city' in s.checkpoints[0]!, 'absent places are left out, not null')
  t.equal(s.notFound, undefined)
})

t.test('the same answer hashes the same, whatever its order or time format', async (t) => {
  const a = afterShipSnapshot(tracking())
  const reordered = tracking()
  reordered.checkpoints = [...reordered.checkpoints!].reverse().map((c) => ({ ...c, checkpoint_time: toUtcIso(c.checkpoint_time) }))
  const b = afterShipSnapshot(reordered)
  t.equal(b.hash, a.hash)
  t.same(b.checkpoints.map((c) => c.id), a.checkpoints.map((c) => c.id), 'checkpoint identities are stable')
  t.equal(afterShipSnapshot(tracking()).hash, a.hash, 'and across calls')

  const moreScans = tracking()
  moreScans.checkpoints!.push({ checkpoint_time: '2026-11-03T08:00:00Z', message: 'Out for delivery', tag: 'OutForDelivery' })
  t.not(afterShipSnapshot({ ...moreScans, tag: 'OutForDelivery' }).hash, a.hash, 'a new scan changes it')
  t.not(afterShipSnapshot(tracking({ tag: 'Exception' })).hash, a.hash, 'a new status changes it')
  t.not(afterShipSnapshot(tracking({ expected_delivery: '2026-11-06T00:00:00Z' })).hash, a.hash, 'a new promise changes it')
})

t.test('AfterShip expiry without a single scan is "not found at carrier"', async (t) => {
  t.equal(afterShipSnapshot(tracking({ tag: 'Expired', checkpoints: [] })).notFound, true)
  t.equal(afterShipSnapshot(tracking({ tag: 'Expired' })).notFound, undefined, 'an expiry after scans is not')
})

t.test('an EasyPost tracker becomes the same kind of snapshot', async (t) => {
  const s = easyPostSnapshot({
    tracking_code: 'EZ4000000004',
    carrier: 'USPS',
    status: 'delivered',
    est_delivery_date: '2026-11-05T05:14:45Z',
    tracking_details: [
      { datetime: '2026-11-01T05:14:45Z', message: 'Pre-Shipment Info Sent to USPS', status: 'pre_transit', tracking_location: { city: null, country: null } },
      { datetime: '2026-11-04T17:51:45Z', message: 'Delivered', status: 'delivered', tracking_location: { city: 'CHARLESTON', state: 'SC', country: 'US', zip: '29401' } },
    ],
  })
  t.equal(s.status, 'delivered')
  t.match(s.checkpoints, [{ status: 'info_received' }, { city: 'CHARLESTON', country: 'US', status: 'delivered' }])
})
