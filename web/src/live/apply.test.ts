import t from 'tap'
import type { PublicPackage, LocationPoint, Package, PackageEvent, Page, PublicView, TrackingEntry } from '../api/types.js'
import { applyToEventLog, applyToLocations, applyToPackage, applyToPackagePage, applyToPublicView, applyToTrackings } from './apply.js'

const T0 = '2025-03-01T10:00:00.000Z'
const T1 = '2025-03-01T10:05:00.000Z'
const T2 = '2025-03-01T10:10:00.000Z'

const pkg = (tn = 'DTAAAAAAAAAAA', over: Partial<Package> = {}): Package => ({
  id: `id-${tn}`,
  trackingNumber: tn,
  status: 'pending',
  carrier: 'delivertrack',
  sender: { name: 'Sender' },
  recipient: { name: 'Recipient' },
  deliveryOption: 'standard',
  paymentStatus: 'not_required',
  version: 1,
  createdAt: T0,
  updatedAt: T0,
  view: 'full',
  ...over,
})

let n = 0
const event = (type: PackageEvent['type'], data: Record<string, unknown>, over: Partial<PackageEvent> = {}): PackageEvent => ({
  id: `e${++n}`,
  type,
  trackingNumber: 'DTAAAAAAAAAAA',
  occurredAt: T1,
  recordedAt: T1,
  data,
  ...over,
})

t.test('a status change moves the package on once, and never back', async (t) => {
  const p = pkg()
  const change = event('package.status_changed', { status: 'in_transit', previousStatus: 'pending', location: { lat: 52.5, lng: 13.4, city: 'Berlin' } }, { seq: 2 })
  applyToPackage(p, change)
  t.match(p, { status: 'in_transit', version: 2, updatedAt: T1, lastLocation: { lat: 52.5, lng: 13.4, recordedAt: T1 } })
  applyToPackage(p, change)
  t.equal(p.version, 2, 'the same event again changes nothing')
  applyToPackage(p, event('package.status_changed', { status: 'pending' }, { recordedAt: T0, occurredAt: T0 }))
  t.equal(p.status, 'in_transit', 'an event older than the data is ignored')
  applyToPackage(p, event('package.status_changed', { status: 'no_such_status' }, { recordedAt: T2 }))
  t.equal(p.status, 'in_transit', 'an unknown status is ignored')
})

t.test('details, assignment and live positions', async (t) => {
  const p = pkg(undefined, { description: 'Old', lastLocation: { lat: 1, lng: 1, recordedAt: T1 } })
  applyToPackage(p, event('package.updated', { changes: { description: null, estimatedDelivery: T2, carrier: 'ups', version: 99 } }))
  t.equal(p.description, undefined, 'null clears a field')
  t.equal(p.estimatedDelivery, T2)
  t.equal(p.carrier, 'ups')
  t.equal(p.version, 2, 'only known fields are patched')
  applyToPackage(p, event('package.assigned', { driverId: 'd1' }, { recordedAt: T2 }))
  t.equal(p.driverId, 'd1')
  applyToPackage(p, event('package.location', { lat: 2, lng: 2, recordedAt: T0 }))
  t.same(p.lastLocation, { lat: 1, lng: 1, recordedAt: T1 }, 'an older position does not move the package back')
  applyToPackage(p, event('package.location', { lat: 3, lng: 4, recordedAt: T2 }))
  t.same(p.lastLocation, { lat: 3, lng: 4, recordedAt: T2 })
  applyToPackage(p, event('package.status_changed', { status: 'delivered' }, { trackingNumber: 'DTOTHER000000', recordedAt: T2 }))
  t.equal(p.status, 'pending', 'another package\'s event does not apply')
})

t.test('the tracking list follows its packages; a deleted one leaves it', async (t) => {
  const list: { items: TrackingEntry[] } = {
    items: [
      { trackingNumber: 'DTAAAAAAAAAAA', label: 'Shoes', addedAt: T0, package: pkg() },
      { trackingNumber: 'DTBBBBBBBBBBB', label: null, addedAt: T0, package: pkg('DTBBBBBBBBBBB') },
    ],
  }
  applyToTrackings(list, event('package.status_changed', { status: 'out_for_delivery' }))
  t.equal(list.items[0]!.package.status, 'out_for_delivery')
  applyToTrackings(list, event('package.deleted', {}, { trackingNumber: 'DTBBBBBBBBBBB' }))
  t.same(list.items.map((e) => e.trackingNumber), ['DTAAAAAAAAAAA'])
  applyToTrackings(list, event('package.status_changed', { status: 'delivered' }, { trackingNumber: 'DTCCCCCCCCCCC' }))
  t.equal(list.items.length, 1, 'events of untracked packages are ignored')
})

t.test("a tracked stranger's number stays a public view and follows redacted events", async (t) => {
  const view: PublicPackage = { view: 'public', trackingNumber: 'DTAAAAAAAAAAA', status: 'pending', carrier: 'delivertrack', estimatedDelivery: null, lastUpdatedAt: T0, events: [{ status: 'pending', occurredAt: T0 }] }
  const list = { items: [{ trackingNumber: 'DTAAAAAAAAAAA', label: null, addedAt: T0, package: view }] }
  applyToTrackings(list, event('package.status_changed', { status: 'in_transit', previousStatus: 'pending', note: 'scan', city: 'Berlin' }))
  t.match(list.items[0]!.package, { view: 'public', status: 'in_transit', lastUpdatedAt: T1, events: [{ status: 'pending' }, { status: 'in_transit', note: 'scan', city: 'Berlin' }] })
  t.notOk('version' in list.items[0]!.package, 'it never turns into a full package')
})

t.test('a page of the packages table updates in place or asks to be fetched again', async (t) => {
  const page: Page<Package> = { items: [pkg(), pkg('DTBBBBBBBBBBB')], nextCursor: 'c1' }
  t.notOk(applyToPackagePage(page, event('package.status_changed', { status: 'exception' })))
  t.equal(page.items[0]!.status, 'exception')
  t.notOk(applyToPackagePage(page, event('package.deleted', {}, { trackingNumber: 'DTBBBBBBBBBBB' })))
  t.equal(page.items.length, 1)
  const created = event('package.created', { status: 'pending' }, { trackingNumber: 'DTNEW00000000' })
  t.ok(applyToPackagePage(page, created), 'a new package belongs on the first page')
  t.ok(applyToPackagePage(page, created, { status: 'pending' }))
  t.notOk(applyToPackagePage(page, created, { status: 'delivered' }), 'not when the filter excludes it')
  t.notOk(applyToPackagePage(page, created, { cursor: 'c1' }), 'older pages do not change')
  const moved = event('package.status_changed', { status: 'delivered' }, { trackingNumber: 'DTZZZZZZZZZZZ' })
  t.ok(applyToPackagePage(page, moved, { status: 'delivered' }), 'a package entering the filtered status')
  t.notOk(applyToPackagePage(page, moved), 'unfiltered, a package off this page is not news')
})

t.test('the timeline takes durable events once, in seq order', async (t) => {
  const log: { items: PackageEvent[] } = { items: [event('package.created', {}, { seq: 1 })] }
  const e3 = event('package.status_changed', { status: 'in_transit' }, { seq: 3 })
  const e2 = event('package.updated', { changes: {} }, { seq: 2 })
  applyToEventLog(log, e3)
  applyToEventLog(log, e2)
  applyToEventLog(log, e3)
  applyToEventLog(log, event('package.location', { lat: 1, lng: 1 }))
  t.same(log.items.map((e) => e.seq), [1, 2, 3])
})

t.test('the route takes each live position once, newest first', async (t) => {
  const history: { items: LocationPoint[] } = { items: [{ lat: 1, lng: 1, recordedAt: T1 }] }
  const newer = event('package.location', { lat: 2, lng: 2, recordedAt: T2, speedMps: 8, deviceId: 'dev' })
  applyToLocations(history, newer)
  applyToLocations(history, newer)
  applyToLocations(history, event('package.location', { lat: 0, lng: 0, recordedAt: T0 }))
  applyToLocations(history, event('package.status_changed', { status: 'in_transit' }))
  t.same(history.items, [{ lat: 2, lng: 2, recordedAt: T2, speedMps: 8, deviceId: 'dev' }, { lat: 1, lng: 1, recordedAt: T1 }, { lat: 0, lng: 0, recordedAt: T0 }])
})

t.test('the public view takes redacted status changes', async (t) => {
  const view: PublicView = { trackingNumber: 'DTAAAAAAAAAAA', status: 'pending', carrier: 'dt', estimatedDelivery: null, lastUpdatedAt: T0, events: [{ status: 'pending', occurredAt: T0 }] }
  const change = event('package.status_changed', { status: 'in_transit', previousStatus: 'pending', note: 'Left the hub', city: 'Berlin' }, { seq: 2 })
  applyToPublicView(view, change)
  applyToPublicView(view, { ...change, id: 'again' })
  t.equal(view.status, 'in_transit')
  t.equal(view.lastUpdatedAt, T1)
  t.same(view.events, [{ status: 'pending', occurredAt: T0 }, { status: 'in_transit', occurredAt: T1, note: 'Left the hub', city: 'Berlin' }])
  applyToPublicView(view, event('package.location', { lat: 1, lng: 1 }))
  t.equal(view.events.length, 2, 'positions never reach the public view')
})

t.test('a declined or replaced assignment takes the driver off the package', async (t) => {
  const p = pkg(undefined, { driverId: 'd1' })
  applyToPackage(p, event('package.assignment_cancelled', { assignmentId: 'a1', driverId: 'd1' }, { recordedAt: T1 }))
  applyToPackage(p, event('package.assigned', { assignmentId: 'a2', driverId: 'd2' }, { recordedAt: T1 }))
  t.equal(p.driverId, 'd2', 'the replacement names the new driver')
  t.equal(p.version, 2, 'one write, one version')
  applyToPackage(p, event('package.assignment_declined', { assignmentId: 'a2', driverId: 'd2' }, { recordedAt: T2 }))
  t.notOk('driverId' in p, 'declined: no driver')
})

t.test('a proof moves the version on, so an If-Match from the page still matches', async (t) => {
  const p = pkg()
  applyToPackage(p, event('package.proof_added', { proofId: 'p1', kind: 'photo' }, { recordedAt: T1 }))
  t.equal(p.version, 2)
  t.equal(p.updatedAt, T1)
  applyToPackage(p, event('package.proof_added', { proofId: 'p1', kind: 'photo' }, { recordedAt: T1 }))
  t.equal(p.version, 2, 'the same event again changes nothing')
})
