import t from 'tap'
import { byActor } from './actor.js'

t.test('the timeline names who acted, as far as the event says', async (t) => {
  t.equal(byActor({ type: 'user', id: 'u1', role: 'driver', name: 'Dana' }), 'by Dana (driver)')
  t.equal(byActor({ type: 'user', id: 'u2', role: 'operator' }), 'by an operator')
  t.equal(byActor({ type: 'service', id: 's1' }), 'by a service')
  t.equal(byActor({ type: 'carrier', name: 'DHL' }), 'by DHL (carrier)')
  t.equal(byActor({ type: 'system' }), 'by the system')
  t.equal(byActor(undefined), undefined, 'no actor: the line stays as it was')
})
