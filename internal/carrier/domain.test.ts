import t from 'tap'
import { AFTERSHIP_TAGS, EASYPOST_STATUSES, checkpoint, snapshot, statusFromAfterShip, statusFromEasyPost, toUtcIso } from './domain.js'

t.test('AfterShip tags map onto our statuses', async (t) => {
  const table: Array<[string, string | undefined, string]> = [
    ['Pending', undefined, 'pending'],
    ['InfoReceived', 'InfoReceived_001', 'info_received'],
    ['InTransit', 'InTransit_007', 'in_transit'],
    ['OutForDelivery', undefined, 'out_for_delivery'],
    ['AttemptFail', 'AttemptFail_001', 'failed_attempt'],
    ['AvailableForPickup', undefined, 'available_for_pickup'],
    ['Exception', 'Exception_007', 'exception'],
    ['Exception', 'Exception_011', 'returned'],
    ['Delivered', 'Delivered_001', 'delivered'],
    ['Expired', 'Expired_001', 'expired'],
    ['SomethingNew', undefined, 'pending'],
  ]
  for (const [tag, subtag, ours] of table) t.equal(statusFromAfterShip(tag, subtag), ours, `${tag}${subtag ? `/${subtag}` : ''}`)
  t.equal(Object.keys(AFTERSHIP_TAGS).length, 9, 'every documented tag has an entry')
})

t.test('EasyPost statuses map onto our statuses', async (t) => {
  const table: Array<[string, string]> = [
    ['unknown', 'pending'],
    ['pre_transit', 'info_received'],
    ['in_transit', 'in_transit'],
    ['out_for_delivery', 'out_for_delivery'],
    ['available_for_pickup', 'available_for_pickup'],
    ['delivered', 'delivered'],
    ['return_to_sender', 'returned'],
    ['failure', 'exception'],
    ['cancelled', 'cancelled'],
    ['error', 'exception'],
    ['brand_new_status', 'pending'],
  ]
  for (const [theirs, ours] of table) t.equal(statusFromEasyPost(theirs), ours, theirs)
  t.equal(Object.keys(EASYPOST_STATUSES).length, 10, 'every documented status has an entry')
})

t.test('provider times become UTC, zone-less ones read as UTC', async (t) => {
  t.equal(toUtcIso('2026-11-02T10:00:00+02:00'), '2026-11-02T08:00:00.000Z')
  t.equal(toUtcIso('2026-11-02T10:00:00'), '2026-11-02T10:00:00.000Z')
  t.equal(toUtcIso('2026-11-02'), '2026-11-02T00:00:00.000Z')
  t.equal(toUtcIso('not a time'), undefined)
  t.equal(toUtcIso(null), undefined)
})

t.test('a repeated scan counts once; a scan without a time is dropped', async (t) => {
  const cp = checkpoint({ occurredAt: '2026-11-02T10:00:00Z', message: 'Picked up', city: 'Chicago' })!
  const again = checkpoint({ occurredAt: '2026-11-02T10:00:00.000Z', message: ' Picked up ', city: 'Chicago', status: 'in_transit' })!
  t.equal(again.id, cp.id, 'same time, message and place: same identity, the status label aside')
  t.not(checkpoint({ occurredAt: '2026-11-02T10:00:00Z', message: 'Picked up', city: 'Boston' })!.id, cp.id)
  t.equal(checkpoint({ occurredAt: 'garbage', message: 'x' }), undefined)
  t.equal(snapshot({ status: 'in_transit', checkpoints: [cp, again, undefined] }).checkpoints.length, 1)
  t.same(checkpoint({ occurredAt: '2026-11-02T10:00:00Z', message: 'm', lat: 95, lng: 10 })!.lat, undefined, 'impossible coordinates are dropped')
})


t.test('a snapshot hash depends on the content, not on its order', async (t) => {
  const a = checkpoint({ occurredAt: '2026-11-01T09:00:00Z', message: 'Label created' })
  const b = checkpoint({ occurredAt: '2026-11-02T10:00:00+00:00', message: 'Picked up', city: 'Chicago', lat: 41.88, lng: -87.63 })
  const one = snapshot({ status: 'in_transit', checkpoints: [a, b], estimatedDelivery: '2026-11-05' })
  t.equal(snapshot({ status: 'in_transit', checkpoints: [b, a], estimatedDelivery: '2026-11-05T00:00:00Z' }).hash, one.hash)
  t.same(one.checkpoints.map((c) => c.message), ['Label created', 'Picked up'], 'oldest first')
  t.not(snapshot({ status: 'out_for_delivery', checkpoints: [a, b], estimatedDelivery: '2026-11-05' }).hash, one.hash, 'status')
  t.not(snapshot({ status: 'in_transit', checkpoints: [a], estimatedDelivery: '2026-11-05' }).hash, one.hash, 'checkpoints')
  t.not(snapshot({ status: 'in_transit', checkpoints: [a, b] }).hash, one.hash, 'estimated delivery')
  t.not(snapshot({ status: 'in_transit', checkpoints: [a, b], estimatedDelivery: '2026-11-05', notFound: true }).hash, one.hash, 'not found')
})
