import t from 'tap'
import { bearer } from '../app/testing/gateway.js'
import { utcDay } from './plan.js'
import { syncFixture, type SyncFixture } from './testing/sync.js'

// The admin endpoints against the sandbox provider, on the real PostgreSQL.

const post = (fx: SyncFixture, url: string, token: string, payload?: object) =>
  fx.gw.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) })

t.test('refresh: a manual check jumps the queue; refusals', async (t) => {
  const fx = await syncFixture(t, { TRACKING_DAILY_BUDGET: 10, TRACKING_RATE_BUFFER: 20 })
  const operator = await fx.gw.user('operator')
  const tn = 'SBXINTRANSIT0101'
  const done = 'SBXDELIVERED0101'
  await fx.add(tn)
  await fx.add(done)
  await fx.sync.runOnce()
  t.equal((await fx.tracking(tn)).priority, 100, 'scheduled after its first check')

  const forbidden = await post(fx, `/carrier-sync/refresh/${tn}`, operator.token)
  t.equal(forbidden.statusCode, 403, 'operators read, they do not refresh')
  const res = await post(fx, `/carrier-sync/refresh/${tn.toLowerCase()}`, fx.admin.token)
  t.equal(res.statusCode, 202, res.body)
  const { jobId, scheduledFor } = res.json()
  t.match(await fx.tracking(tn), { package_id: jobId, priority: 50, next_type: 'manual', next_triggered_by: fx.admin.id })
  t.equal(Date.parse(scheduledFor), ((await fx.tracking(tn)).next_update_due as Date).getTime(), 'scheduledFor is when it is due')

  const jobs = (await fx.get('/carrier-sync/jobs', operator.token)).json()
  t.equal((await fx.get('/carrier-sync/jobs', fx.customer.token)).statusCode, 403)
  t.match(jobs.counts.manual, { pending: 1, running: 0 }, 'the queue shows it as a pending manual job')
  t.match(jobs.counts.scheduled, { completed: 2, failed: 0 }, 'the first checks count as a completed scheduled job')
  t.match(jobs.items, [{ jobId, trackingNumber: tn, type: 'manual', state: 'pending', priority: 50 }])
  t.equal(jobs.items.length, 1, 'the other tracking is not due')

  fx.clock.advanceMinutes(1)
  t.match(await fx.sync.runOnce(), { called: 1 })
  t.match((await fx.log(tn)).at(-1), { type: 'manual', triggered_by: fx.admin.id, success: true })
  t.match(await fx.tracking(tn), { priority: 100, next_type: 'scheduled' }, 'back on the schedule after the manual check')

  t.match((await post(fx, '/carrier-sync/refresh/NOSUCHNUMBER1', fx.admin.token)).json(), { statusCode: 404, code: 'not_found' })
  t.match((await post(fx, '/carrier-sync/refresh/bad!', fx.admin.token)).json(), { statusCode: 400, code: 'validation_failed' })

  fx.clock.advanceMinutes(49 * 60)
  await fx.sync.runOnce()
  t.equal((await fx.get(`/track/${done}`)).json().status, 'delivered')
  const final = await post(fx, `/carrier-sync/refresh/${done}`, fx.admin.token)
  t.match(final.json(), { statusCode: 409, code: 'tracking_final' })

  await fx.gw.pool.query('INSERT INTO carrier_budget (day, used) VALUES ($1, 10) ON CONFLICT (day) DO UPDATE SET used = 10', [utcDay(new Date())])
  const spent = await post(fx, `/carrier-sync/refresh/${tn}`, fx.admin.token)
  t.match(spent.json(), { statusCode: 429, code: 'budget_exhausted' }, 'no budget left, reserve included')
  t.match(spent.headers['retry-after'], /^[0-9]+$/, 'says when to come back')
})

t.test('bulk refresh queues by number or filter and counts the rest as skipped', async (t) => {
  const fx = await syncFixture(t)
  for (const tn of ['SBXINTRANSIT0201', 'SBXINTRANSIT0202', 'SBXOFD0201']) await fx.add(tn)
  await fx.sync.runOnce()
  const res = await post(fx, '/carrier-sync/bulk-refresh', fx.admin.token, { trackingNumbers: ['sbxintransit0201', 'SBXINTRANSIT0202', 'NOSUCHNUMBER1'] })
  t.equal(res.statusCode, 202, res.body)
  t.same(res.json(), { queued: 2, skipped: 1 })
  t.equal((await fx.tracking('SBXOFD0201')).next_type, 'scheduled', 'a number not named is left alone')

  const byStatus = await post(fx, '/carrier-sync/bulk-refresh', fx.admin.token, { status: 'info_received', carrier: 'UPS' })
  t.same(byStatus.json(), { queued: 3, skipped: 0 })
  t.match((await post(fx, '/carrier-sync/bulk-refresh', fx.admin.token, {})).json(), { statusCode: 400, code: 'validation_failed' }, 'no filter at all is refused')
  t.match((await post(fx, '/carrier-sync/bulk-refresh', fx.admin.token, { trackingNumbers: Array(501).fill('SBXOFD0201') })).json(), { statusCode: 400 })
  const customer = await post(fx, '/carrier-sync/bulk-refresh', fx.customer.token, { status: 'pending' })
  t.equal(customer.statusCode, 403)
})

t.test('usage and the log', async (t) => {
  const fx = await syncFixture(t, { TRACKING_DAILY_BUDGET: 100, TRACKING_RATE_BUFFER: 10 })
  const operator = await fx.gw.user('operator')
  const tn = 'SBXINTRANSIT0301'
  await fx.add(tn)
  await fx.add('SBXOFD0301', 'dhl')
  fx.sandbox.state.addFault({ mode: 'server_error', status: 503 }, 1)
  await fx.sync.runOnce()
  const usage = (await fx.get('/carrier-sync/usage?days=3', operator.token)).json()
  const calls = (await fx.gw.pool.query('SELECT used FROM carrier_budget WHERE day = $1', [utcDay(fx.clock.now())])).rows[0].used
  t.match(usage.today, { calls, budget: 100, reserve: 10, remaining: 100 - calls, successRate: 0.5 })
  t.equal(usage.byDay.length, 3, 'one row per day, empty days as zeros')
  t.match(usage.byDay.at(-1), { day: utcDay(fx.clock.now()), failures: 1, statusChanges: 1 })
  t.same(usage.byCarrier, { dhl: { calls: 1, failures: usage.byCarrier.dhl.failures }, ups: { calls: 1, failures: usage.byCarrier.ups.failures } })
  t.equal(usage.byCarrier.dhl.failures + usage.byCarrier.ups.failures, 1)
  t.equal((await fx.get('/carrier-sync/usage', fx.customer.token)).statusCode, 403)

  const first = (await fx.get('/carrier-sync/log?limit=1', operator.token)).json()
  t.equal(first.items.length, 1)
  t.type(first.nextCursor, 'string')
  const second = (await fx.get(`/carrier-sync/log?limit=1&cursor=${first.nextCursor}`, operator.token)).json()
  t.equal(second.items.length, 1)
  t.equal(second.nextCursor, null, 'two checks, two pages')
  const mine = (await fx.get(`/carrier-sync/log?trackingNumber=${tn}`, operator.token)).json().items
  t.equal(mine.length, 1)
  t.match(mine[0], { trackingNumber: tn, type: 'scheduled', triggeredBy: 'schedule', provider: 'sandbox', durationMs: Number, startedAt: String })
  t.match((await fx.get('/carrier-sync/log?cursor=zz', operator.token)).json(), { statusCode: 400, code: 'validation_failed' })
})
