import t from 'tap'
import type { EventEnvelope } from '../events/envelope.js'
import { draftFor, itemOf } from './domain.js'

const ID = '6f1c1d7e-8a4b-4c3d-9e2f-0a1b2c3d4e5f'
const event = (type: string, data: Record<string, unknown>) => ({ id: ID, type, trackingNumber: 'DT42', occurredAt: '', recordedAt: '', data }) as unknown as EventEnvelope

t.test('status changes go to the package’s followers, in words', async (t) => {
  t.match(draftFor(event('package.status_changed', { status: 'delivered', previousStatus: 'out_for_delivery' })), {
    type: 'package.status_changed',
    title: 'DT42 was delivered',
    body: 'Your package was delivered.',
    audience: { kind: 'followers', eventId: ID },
  })
  t.match(draftFor(event('package.status_changed', { status: 'held_at_customs' })), { title: 'DT42 is now held at customs' }, 'a status it does not know yet still reads')
  t.equal(draftFor(event('package.status_changed', {})), null, 'no status, no notification')
})

t.test('assignments go to the driver; other events make nothing', async (t) => {
  t.match(draftFor(event('package.assigned', { driverId: 'd1' })), { audience: { kind: 'user', userId: 'd1' }, title: 'New delivery offered: DT42' })
  t.match(draftFor(event('package.assignment_cancelled', { driverId: 'd1' })), { audience: { kind: 'user', userId: 'd1' } })
  t.equal(draftFor(event('package.assigned', { driverId: null })), null, 'an unassignment')
  for (const type of ['package.created', 'package.updated', 'package.location', 'package.assignment_accepted']) t.equal(draftFor(event(type, { driverId: 'd1' })), null, type)
})

t.test('the JSON form leaves out a missing tracking number', async (t) => {
  const at = new Date('2026-01-02T03:04:05.000Z')
  t.same(itemOf({ id: 'n', type: 'x', title: 'T', body: 'B', trackingNumber: null, read: true, createdAt: at }), { id: 'n', type: 'x', title: 'T', body: 'B', read: true, createdAt: '2026-01-02T03:04:05.000Z' })
})
