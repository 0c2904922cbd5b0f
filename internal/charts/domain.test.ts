import t from 'tap'
import { Deltas, foldEvents, NEW_PACKAGE, type LoggedEvent } from './domain.js'

const at = (iso: string) => new Date(iso)
const ev = (seq: number, type: string, occurredAt: string, data: Record<string, unknown> = {}): LoggedEvent => ({ seq, type, occurredAt: at(occurredAt), data })
const DRIVER = '00000000-0000-4000-8000-00000000000d'

t.test('a delivery on its estimated day counts on time for the day and the driver, with its accept-to-delivered time', async (t) => {
  const deltas = new Deltas()
  const state = foldEvents(NEW_PACKAGE, [
    ev(1, 'package.created', '2026-03-01T09:00:00Z', { status: 'pending', estimatedDelivery: '2026-03-03T18:00:00.000Z' }),
    ev(2, 'package.assigned', '2026-03-02T08:00:00Z', { driverId: DRIVER }),
    ev(3, 'package.assignment_accepted', '2026-03-02T08:10:00Z', {}),
    ev(4, 'package.status_changed', '2026-03-02T23:30:00Z', { status: 'failed_attempt' }),
    ev(5, 'package.status_changed', '2026-03-03T23:59:59Z', { status: 'delivered' }),
  ], deltas)
  t.equal(state.countedSeq, 5)
  t.same(Object.fromEntries(deltas.days), {
    '2026-03-01': { created: 1, delivered: 0, failedAttempts: 0, exceptions: 0, deliveredEstimated: 0, deliveredOnTime: 0 },
    '2026-03-02': { created: 0, delivered: 0, failedAttempts: 1, exceptions: 0, deliveredEstimated: 0, deliveredOnTime: 0 },
    '2026-03-03': { created: 0, delivered: 1, failedAttempts: 0, exceptions: 0, deliveredEstimated: 1, deliveredOnTime: 1 },
  })
  t.same([...deltas.driverDays.values()], [{ driverId: DRIVER, day: '2026-03-03', delivered: 1, deliveredEstimated: 1, deliveredOnTime: 1, acceptToDeliveredS: [39 * 3600 + 49 * 60 + 59] }])
})

t.test('late, without an estimate, moved estimate, declined offer', async (t) => {
  const deltas = new Deltas()
  foldEvents(NEW_PACKAGE, [
    ev(1, 'package.created', '2026-03-01T09:00:00Z', { estimatedDelivery: '2026-03-01T10:00:00Z' }),
    ev(2, 'package.updated', '2026-03-01T10:00:00Z', { changes: { estimatedDelivery: '2026-03-04T10:00:00Z' } }),
    ev(3, 'package.assigned', '2026-03-01T11:00:00Z', { driverId: DRIVER }),
    ev(4, 'package.assignment_declined', '2026-03-01T11:05:00Z', {}),
    ev(5, 'package.status_changed', '2026-03-05T00:00:00Z', { status: 'delivered' }),
  ], deltas)
  t.match(deltas.days.get('2026-03-05'), { delivered: 1, deliveredEstimated: 1, deliveredOnTime: 0 }, 'a day after the moved estimate is late')
  t.equal(deltas.driverDays.size, 0, 'a declined offer credits no driver')

  const plain = new Deltas()
  const s = foldEvents(NEW_PACKAGE, [ev(1, 'package.created', '2026-03-01T09:00:00Z'), ev(2, 'package.status_changed', '2026-03-01T12:00:00Z', { status: 'delivered' })], plain)
  t.match(plain.days.get('2026-03-01'), { created: 1, delivered: 1, deliveredEstimated: 0, deliveredOnTime: 0 }, 'no estimate: delivered, outside the rate')
  t.equal(foldEvents(s, [ev(2, 'package.status_changed', '2026-03-01T12:00:00Z', { status: 'delivered' })], plain).countedSeq, 2)
  t.equal(plain.days.get('2026-03-01')!.delivered, 1, 'an event at or below the counted seq counts nothing')
})

t.test('a followed carrier number is no order until an admin merges it', async (t) => {
  const deltas = new Deltas()
  let s = foldEvents(NEW_PACKAGE, [
    ev(1, 'package.created', '2026-03-01T09:00:00Z', { external: true }),
    ev(2, 'package.status_changed', '2026-03-01T10:00:00Z', { status: 'exception' }),
  ], deltas)
  t.ok(deltas.empty)
  s = foldEvents(s, [ev(3, 'package.updated', '2026-03-02T10:00:00Z', { changes: {}, mergedExternal: true }), ev(4, 'package.status_changed', '2026-03-02T11:00:00Z', { status: 'exception' })], deltas)
  t.match(deltas.days.get('2026-03-02'), { created: 1, exceptions: 1 })
  t.equal(s.external, false)
})
