import t from 'tap'
import type { Package, PackageStatus } from '../package/domain.js'
import { checkpoint, snapshot, type Checkpoint } from './domain.js'
import { NOT_FOUND_NOTE, nextUtcDay, planSnapshot, retryDelayS } from './plan.js'

const NOW = new Date('2026-12-04T12:00:00Z')
const pkg = (status: PackageStatus): Package => ({
  id: '00000000-0000-4000-8000-000000000001', trackingNumber: 'SBX00000001', status, carrier: 'ups',
  sender: { name: 'Unknown sender' }, recipient: { name: 'Unknown recipient' }, external: true, deliveryOption: 'standard', paymentStatus: 'not_required',
  version: 3, seq: 3, createdAt: new Date('2026-12-01T00:00:00Z'), updatedAt: new Date('2026-12-01T00:00:00Z'),
})
const cp = (at: string, message: string, status?: PackageStatus, place: { city?: string; lat?: number; lng?: number } = {}) => checkpoint({ occurredAt: at, message, status, ...place })!
const statuses = (p: ReturnType<typeof planSnapshot>) => p.change.events.map((e) => [e.data.status, e.data.forced === true])

t.test('each new checkpoint is one status change, dated at its scan', async (t) => {
  const label = cp('2026-12-02T08:00:00Z', 'Label created', 'info_received')
  const pickup = cp('2026-12-02T14:00:00Z', 'Picked up', 'in_transit', { city: 'Chicago', lat: 41.9, lng: -87.6 })
  const hub = cp('2026-12-03T02:00:00Z', 'Departed hub', 'in_transit', { city: 'Indianapolis' })
  const snap = snapshot({ status: 'in_transit', checkpoints: [hub, label, pickup] })
  const plan = planSnapshot(pkg('pending'), snap, new Set([label.id]), NOW)
  t.same(statuses(plan), [['in_transit', false], ['in_transit', false]], 'a repeated in_transit is a checkpoint')
  t.same(plan.change.events.map((e) => e.occurredAt.toISOString()), ['2026-12-02T14:00:00.000Z', '2026-12-03T02:00:00.000Z'])
  t.match(plan.change.events[0]!.data, { note: 'Picked up', location: { lat: 41.9, lng: -87.6, city: 'Chicago' } })
  t.notOk('location' in plan.change.events[1]!.data, 'no coordinates, no location')
  t.same(plan.newCheckpoints.map((c: Checkpoint) => c.id), [pickup.id, hub.id], 'the applied label is not new')
  t.match(plan, { previousStatus: 'pending', newStatus: 'in_transit' })
  t.ok(plan.change.events.every((e) => e.actor?.type === 'carrier' && e.actor.id === 'ups'), 'each event is the carrier\'s doing')
})

t.test('a jump the table does not allow is forced, and says so', async (t) => {
  const delivered = cp('2026-12-03T16:00:00Z', 'Delivered', 'delivered')
  t.same(statuses(planSnapshot(pkg('pending'), snapshot({ status: 'delivered', checkpoints: [delivered] }), new Set(), NOW)), [['delivered', true]], 'pending -> delivered: the carrier skipped its scans')
})

t.test('what moves nothing', async (t) => {
  const again = cp('2026-12-02T09:00:00Z', 'Label printed again', 'info_received')
  t.same(statuses(planSnapshot(pkg('info_received'), snapshot({ status: 'info_received', checkpoints: [again] }), new Set(), NOW)), [], 'the same status again (other than in_transit)')
  const late = cp('2026-12-03T10:00:00Z', 'Back in transit', 'in_transit')
  t.same(statuses(planSnapshot(pkg('delivered'), snapshot({ status: 'in_transit', checkpoints: [late] }), new Set(), NOW)), [], 'nothing leaves a final status')
})

t.test('the overall status, a future scan, an unknown number and a new estimate', async (t) => {
  const noTag = cp('2026-12-04T11:00:00Z', 'Scan')
  t.same(statuses(planSnapshot(pkg('out_for_delivery'), snapshot({ status: 'delivered', checkpoints: [noTag] }), new Set(), NOW)), [['delivered', false]], 'the answer status when the scans do not carry it')
  const ahead = cp('2026-12-04T13:00:00Z', 'Out for delivery', 'out_for_delivery')
  t.equal(planSnapshot(pkg('in_transit'), snapshot({ status: 'out_for_delivery', checkpoints: [ahead] }), new Set(), NOW).change.events[0]!.occurredAt.toISOString(), NOW.toISOString(), 'a scan ahead of our clock is dated now')
  const gone = planSnapshot(pkg('pending'), snapshot({ status: 'expired', checkpoints: [], notFound: true }), new Set(), NOW)
  t.match(gone.change.events, [{ type: 'package.status_changed', data: { status: 'expired', note: NOT_FOUND_NOTE } }])
  const eta = planSnapshot(pkg('in_transit'), snapshot({ status: 'in_transit', checkpoints: [], estimatedDelivery: '2026-12-06T18:00:00Z' }), new Set(), NOW)
  t.match(eta.change.events, [{ type: 'package.updated', data: { changes: { estimatedDelivery: new Date('2026-12-06T18:00:00Z') } } }])
  t.equal(eta.change.next.estimatedDelivery?.toISOString(), '2026-12-06T18:00:00.000Z')
})

t.test('retry delays and the budget day', async (t) => {
  t.same([1, 2, 3, 4, 9].map(retryDelayS), [60, 300, 900, 900, 900])
  t.equal(nextUtcDay(new Date('2026-12-31T23:59:59Z')).toISOString(), '2027-01-01T00:00:00.000Z')
})
