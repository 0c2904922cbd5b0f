import t from 'tap'
import * as domain from '../../../internal/package/domain.js'
import { STATUSES, STATUS_LABELS, TRANSITIONS, nextStatuses } from './statuses.js'

// The console mirrors the server's transition table: this keeps the copy honest.

t.test('the statuses and transitions equal the domain\'s', async (t) => {
  t.same([...STATUSES], [...domain.STATUSES])
  t.same(TRANSITIONS, domain.TRANSITIONS)
  t.same(Object.keys(STATUS_LABELS).sort(), [...STATUSES].sort(), 'every status has a label')
})

t.test('next statuses: the table, or with force anything but the same final status', async (t) => {
  t.same(nextStatuses('pending'), ['info_received', 'in_transit', 'exception', 'cancelled', 'expired'])
  t.same(nextStatuses('delivered'), [])
  t.notOk(nextStatuses('delivered', true).includes('delivered'))
  t.equal(nextStatuses('delivered', true).length, STATUSES.length - 1)
  t.ok(nextStatuses('in_transit', true).includes('in_transit'), 'a checkpoint stays possible')
  const refused: string[] = []
  for (const from of STATUSES) {
    for (const to of nextStatuses(from, true)) {
      try {
        domain.checkTransition(from, to, true)
      } catch {
        refused.push(`${from} -> ${to}`)
      }
    }
  }
  t.same(refused, [], 'the server accepts every forced change the console offers')
})
