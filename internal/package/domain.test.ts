import t from 'tap'
import { AppError } from '../platform/errors.js'
import {
  STATUSES,
  TRANSITIONS,
  canTransition,
  checkChar,
  checkTransition,
  generateTrackingNumber,
  isGeneratedTrackingNumber,
  normalizeTrackingNumber,
} from './domain.js'

t.test('tracking numbers are trimmed, upper-cased and validated', async (t) => {
  t.equal(normalizeTrackingNumber('  dt1234abcd  '), 'DT1234ABCD')
  t.equal(normalizeTrackingNumber('12345678'), '12345678', 'eight characters is the minimum')
  t.equal(normalizeTrackingNumber('A'.repeat(30)), 'A'.repeat(30), 'thirty is the maximum')
  for (const bad of ['1234567', 'A'.repeat(31), 'DT-1234-5678', 'DT 12345678', 'ÄBCDEFGHI', '']) {
    t.throws(() => normalizeTrackingNumber(bad), { code: 'validation_failed' }, `rejects ${JSON.stringify(bad)}`)
  }
})

t.test('generated numbers are DT + 10 base32 + a check character', async (t) => {
  const seen = new Set<string>()
  for (let i = 0; i < 500; i++) {
    const tn = generateTrackingNumber()
    t.match(tn, /^DT[A-Z2-7]{11}$/)
    t.ok(isGeneratedTrackingNumber(tn))
    t.equal(normalizeTrackingNumber(tn), tn, 'passes the contract pattern')
    seen.add(tn)
  }
  t.equal(seen.size, 500, 'no collisions in 500')
})

t.test('the check character catches every single-character typo', async (t) => {
  const tn = generateTrackingNumber()
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let caught = 0
  let total = 0
  for (let i = 2; i < 12; i++) {
    for (const c of alphabet) {
      if (c === tn[i]) continue
      total++
      if (!isGeneratedTrackingNumber(tn.slice(0, i) + c + tn.slice(i + 1))) caught++
    }
  }
  t.equal(caught, total)
  t.equal(checkChar('AAAAAAAAAA'), 'A', 'all-zero body has check zero')
})

t.test('transition table matches the contract', async (t) => {
  t.same(TRANSITIONS.pending, ['info_received', 'in_transit', 'exception', 'cancelled', 'expired'])
  t.ok(canTransition('in_transit', 'in_transit'), 'a checkpoint')
  t.notOk(canTransition('pending', 'delivered'))
  for (const terminal of ['delivered', 'returned', 'cancelled', 'expired'] as const) {
    for (const to of STATUSES) t.notOk(canTransition(terminal, to), `${terminal} -> ${to} refused`)
  }
})

t.test('checkTransition refuses with invalid_transition and lets force override', async (t) => {
  t.same(checkTransition('pending', 'in_transit', false), { forced: false })
  const err = t.throws(() => checkTransition('pending', 'delivered', false)) as AppError
  t.equal(err.code, 'invalid_transition')
  t.match(err.message, /allowed: info_received/)
  t.same(checkTransition('pending', 'delivered', true), { forced: true })
  t.same(checkTransition('delivered', 'in_transit', true), { forced: true }, 'force may reopen a terminal status')
  t.throws(() => checkTransition('delivered', 'delivered', true), { code: 'invalid_transition' }, 'but not repeat it')
})
