import t from 'tap'
import type { CarrierJob } from '../api/carrier.js'
import { BUDGET_SPENT, budgetView, bulkOutcomeText, checkedPhrase, logOutcome, logSource, needsAttention, queueRows, refreshErrorText, totalPending } from './carrier-sync.js'

const today = (calls: number, remaining: number) => ({ calls, budget: 100, reserve: 10, remaining, successRate: 1, p95Ms: 120 })

t.test('the queue reads in claim order, missing states as 0', async (t) => {
  const rows = queueRows({ scheduled: { pending: 4, running: 1 }, webhook: { completed: 2 }, manual: { pending: 1, failed: 1 } })
  t.same(rows.map((r) => r.type), ['manual', 'scheduled', 'webhook'], 'manual runs first, unknown types last')
  t.same(rows[1], { type: 'scheduled', pending: 4, running: 1, completed: 0, failed: 0 })
  t.equal(totalPending(rows), 5)
})

t.test('attention lists each number once, raised or failed', async (t) => {
  const job = (tn: string, extra: Partial<CarrierJob>): CarrierJob => ({ jobId: tn, trackingNumber: tn, carrier: 'ups', type: 'scheduled', state: 'pending', priority: 100, scheduledFor: null, startedAt: null, consecutiveFailures: 0, requiresAttention: false, lastCheckedAt: null, error: null, ...extra })
  const items = [job('A1', { requiresAttention: true }), job('B2', {}), job('C3', { state: 'failed' }), job('A1', { state: 'failed' })]
  t.same(needsAttention(items).map((j) => j.trackingNumber), ['A1', 'C3'])
})

t.test('the budget says when scheduled checks stop and when nothing is left', async (t) => {
  t.match(budgetView(today(50, 50)), { state: 'open', scheduledShare: 90, note: undefined })
  t.match(budgetView(today(90, 10)), { state: 'reserve', note: /Scheduled checks are paused until tomorrow; 10 manual refreshes are left/ })
  t.match(budgetView(today(99, 1)), { note: /1 manual refresh is left/ })
  t.match(budgetView(today(100, 0)), { state: 'spent', note: `${BUDGET_SPENT}.` })
})

t.test('a refused refresh is explained in words', async (t) => {
  t.equal(refreshErrorText({ status: 429, code: 'budget_exhausted', message: 'x' }), "Today's budget is spent; scheduled checks resume tomorrow")
  t.match(refreshErrorText({ status: 409, code: 'conflict', message: 'x' }), /final/)
  t.equal(refreshErrorText({ status: 0, code: 'unavailable', message: 'Cannot reach DeliverTrack.' }), 'The refresh failed: Cannot reach DeliverTrack.')
})

t.test('when the carrier was last asked', async (t) => {
  const now = Date.parse('2026-12-04T12:00:00Z')
  t.equal(checkedPhrase('2026-12-04T11:55:00Z', now), 'checked with the carrier 5 minutes ago')
  t.equal(checkedPhrase(null, now), 'not checked with the carrier yet')
})

t.test('an update-log line in words', async (t) => {
  const base = { id: '1', trackingNumber: 'SBXOFD0001', carrier: 'ups', triggeredBy: 'schedule', durationMs: 120, startedAt: '2026-12-04T10:00:00Z', statusChanged: false, eventsAdded: 0, success: true, type: 'scheduled' }
  t.equal(logOutcome({ ...base, statusChanged: true, previousStatus: 'in_transit', newStatus: 'out_for_delivery', eventsAdded: 1 }), 'in transit → out for delivery, 1 event')
  t.equal(logOutcome(base), 'unchanged')
  t.equal(logOutcome({ ...base, eventsAdded: 2 }), 'no status change, 2 events')
  t.equal(logOutcome({ ...base, success: false, statusCode: 503, error: 'provider answered 503' }), 'failed: provider answered 503')
  t.equal(logOutcome({ ...base, success: false, statusCode: 502 }), 'failed: HTTP 502')
  t.equal(logOutcome({ ...base, success: false, error: 'timeout' }), 'failed: timeout')
  t.equal(logSource({ ...base, type: 'webhook', triggeredBy: 'aftership' }), 'push from aftership')
  t.equal(logSource({ ...base, type: 'manual', triggeredBy: 'a-user-id' }), 'manual refresh')
  t.equal(logSource({ ...base, triggeredBy: 'read' }), 'overdue read')
  t.equal(logSource(base), 'schedule')
  t.equal(bulkOutcomeText({ queued: 1, skipped: 0 }), '1 tracking queued')
  t.equal(bulkOutcomeText({ queued: 3, skipped: 2 }), '3 trackings queued, 2 skipped (final, unknown or already being asked)')
})
