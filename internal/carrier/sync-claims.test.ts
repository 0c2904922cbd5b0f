import t from 'tap'
import { utcDay } from './plan.js'
import { PostgresTrackingStore } from './trackings-postgres.js'
import { syncFixture } from './testing/sync.js'

// Claims, the budget and the read path on the real PostgreSQL, with two workers where it matters.

t.test('the daily budget is never passed by racing workers', async (t) => {
  const fx = await syncFixture(t, { TRACKING_DAILY_BUDGET: 10, TRACKING_RATE_BUFFER: 20 })
  const day = utcDay(fx.clock.now())
  const stores = [new PostgresTrackingStore(fx.gw.pool), new PostgresTrackingStore(fx.gw.pool)]
  const grants = await Promise.all(Array.from({ length: 60 }, (_, i) => stores[i % 2]!.reserveCall('2031-01-01', 37)))
  t.equal(grants.filter(Boolean).length, 37, 'exactly the limit, from 60 racing reservations')

  for (let i = 0; i < 30; i++) t.equal((await fx.add(`SBXINTRANSIT${String(i).padStart(4, '0')}`)).statusCode, 201)
  const second = fx.secondWorker().carrierSync!
  const passes = await Promise.all([fx.sync.runOnce(), second.runOnce()])
  t.equal(passes[0].called + passes[1].called, 8, 'two workers together make the scheduled share of the budget: 10 less the 20 % reserve')
  t.equal(passes[0].claimed + passes[1].claimed, 30, 'between them they claimed every due tracking once')
  t.equal(await stores[0]!.used(day), 8)
  t.equal(fx.sandbox.state.size(), 8, 'the provider heard of 8 numbers')
  const { rows } = await fx.gw.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM carrier_trackings WHERE next_update_due <= $1 AND claim_token IS NULL', [fx.clock.now()])
  t.equal(rows[0]!.n, 22, 'the rest were given back, still due')
  t.match(await fx.sync.runOnce(), { claimed: 0 }, 'scheduled work waits while the scheduled share is spent')
  t.equal(await fx.sync.budgetWaitMs(), Date.parse(`${day}T00:00:00Z`) + 86_400_000 - fx.clock.ms, 'until the next UTC day')

  // A manual refresh (priority 50) may use the reserve.
  await fx.gw.pool.query(`UPDATE carrier_trackings SET priority = 50, next_type = 'manual', next_triggered_by = 'admin' WHERE package_id = (SELECT id FROM packages WHERE tracking_number = 'SBXINTRANSIT0029')`)
  t.match(await fx.sync.runOnce(), { claimed: 1, called: 1 })
  t.match(await fx.log('SBXINTRANSIT0029'), [{ type: 'manual', triggered_by: 'admin', success: true }])
  t.equal(await stores[0]!.used(day), 9)
})

t.test('the budget counts requests: a check that needs a second call takes a second unit or waits', async (t) => {
  const fx = await syncFixture(t, { TRACKING_DAILY_BUDGET: 3, TRACKING_RATE_BUFFER: 0 })
  const day = utcDay(fx.clock.now())
  await fx.add('SBXINTRANSIT0200')
  t.match(await fx.sync.runOnce(), { called: 1 })
  // AfterShip forgot the number (removed there): the read misses and the create needs a second unit.
  fx.sandbox.state.reset()
  await fx.gw.pool.query('UPDATE carrier_trackings SET next_update_due = $1', [fx.clock.now()])
  await fx.gw.pool.query('UPDATE carrier_budget SET used = 2 WHERE day = $1', [day])
  t.match(await fx.sync.runOnce(), { called: 1 }, 'the read was made')
  t.equal(await new PostgresTrackingStore(fx.gw.pool).used(day), 3, 'and counted')
  t.match(fx.sandbox.state.counts, { total: 1, get: 1, create: 0 }, 'the create waited: the budget was spent')
  const tracking = await fx.tracking('SBXINTRANSIT0200')
  t.equal(tracking.claim_token, null, 'given back, still due')
  t.ok((tracking.next_update_due as Date).getTime() <= fx.clock.ms)
})

t.test('a worker killed mid-batch loses no tracking and causes no double call', async (t) => {
  const fx = await syncFixture(t, { TRACKING_LEASE_S: 300 })
  for (let i = 0; i < 4; i++) await fx.add(`SBXOFD${String(i).padStart(4, '0')}`)
  // The dead worker claimed two and never finished: no provider call, no settlement.
  const dead = await new PostgresTrackingStore(fx.gw.pool).claim({ limit: 2, now: fx.clock.now(), leaseS: 300, maxPriority: 100 })
  t.equal(dead.length, 2)
  t.match(await fx.sync.runOnce(), { claimed: 2, called: 2 }, 'the restarted worker takes only the unclaimed ones')
  fx.clock.ms += 299_000
  t.match(await fx.sync.runOnce(), { claimed: 0 }, 'the lease still holds')
  fx.clock.ms += 2_000
  t.match(await fx.sync.runOnce(), { claimed: 2, called: 2 }, 'after the lease the dead claims come back')
  const { rows } = await fx.gw.pool.query<{ tracking_number: string; n: number }>('SELECT tracking_number, count(*)::int AS n FROM carrier_update_log GROUP BY 1')
  t.same(rows.map((r) => r.n), [1, 1, 1, 1], 'each tracking was asked about exactly once')
  t.equal(fx.sandbox.state.counts.total, 4, 'and the provider saw one call per tracking')
})

t.test('two workers never ask about one tracking at once', async (t) => {
  const fx = await syncFixture(t, { TRACKING_JOB_BATCH_SIZE: 3, TRACKING_MAX_CONCURRENT: 2 })
  for (let i = 0; i < 12; i++) await fx.add(`SBXPRETRANSIT${String(i).padStart(4, '0')}`)
  fx.sandbox.state.addFault({ mode: 'slow', delayMs: 20 }, 0)
  const workers = [fx.sync, fx.secondWorker().carrierSync!]
  const drain = async (w: (typeof workers)[number]) => {
    let called = 0
    for (let pass = await w.runOnce(); pass.claimed > 0; pass = await w.runOnce()) called += pass.called
    return called
  }
  const called = await Promise.all(workers.map(drain))
  t.equal(called[0]! + called[1]!, 12)
  t.ok(called[0]! > 0 && called[1]! > 0, 'both workers took part')
  const { rows } = await fx.gw.pool.query<{ n: number }>('SELECT count(DISTINCT package_id)::int AS n FROM carrier_update_log')
  t.equal(rows[0]!.n, 12, 'twelve trackings, each asked once')
})

t.test('an overdue read queues one refresh, however many read it', async (t) => {
  const fx = await syncFixture(t)
  const tn = 'SBXINTRANSIT9001'
  await fx.add(tn)
  await fx.sync.runOnce()
  // Last asked a day ago (a 2 h interval), and the next check pushed far out by back-off.
  await fx.gw.pool.query(`UPDATE carrier_trackings SET last_checked_at = now() - interval '1 day', interval_s = 7200, next_update_due = now() + interval '2 days'`)
  const viewer = await fx.gw.user('customer')
  await fx.gw.app.inject({ method: 'POST', url: '/api/v1/me/trackings', headers: { authorization: `Bearer ${viewer.token}` }, payload: { trackingNumber: tn } })
  const reads = await Promise.all([
    ...Array.from({ length: 20 }, () => fx.get(`/track/${tn}`)),
    ...Array.from({ length: 10 }, () => fx.get('/me/trackings', viewer.token)),
  ])
  t.ok(reads.every((r) => r.statusCode === 200))
  t.equal(fx.sandbox.state.counts.total, 1, 'no read asked the provider (the first check registered the number: one call)')
  const tracking = await fx.tracking(tn)
  t.ok((tracking.next_update_due as Date).getTime() <= Date.now(), 'the refresh is due now')
  t.ok(tracking.refresh_requested_at, 'and remembered, so the next reads do not pull again')
  fx.clock.ms = Math.max(fx.clock.ms, Date.now())
  t.match(await fx.sync.runOnce(), { claimed: 1, called: 1 }, 'one check for thirty reads')
  t.match((await fx.log(tn)).at(-1), { type: 'scheduled', triggered_by: 'read' })
})

t.test('stopping mid-pass finishes the call in flight and gives the rest back at once', async (t) => {
  const fx = await syncFixture(t, { TRACKING_MAX_CONCURRENT: 1 })
  for (let i = 0; i < 6; i++) await fx.add(`SBXPRETRANSIT${String(i).padStart(4, '0')}`)
  fx.sandbox.state.addFault({ mode: 'slow', delayMs: 40 }, 0)
  const pass = fx.sync.runOnce()
  while (fx.sandbox.state.counts.total === 0) await new Promise((r) => setTimeout(r, 5))
  fx.sync.stop()
  const result = await pass
  t.match(result, { claimed: 6, called: 1, deferred: 5 }, 'the one in flight was finished')
  t.match(await fx.log('SBXPRETRANSIT0000'), [{ success: true }], 'and saved')
  const { rows } = await fx.gw.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM carrier_trackings WHERE claim_token IS NULL AND next_update_due <= $1', [fx.clock.now()])
  t.equal(rows[0]!.n, 5, 'the others are due again now, not after the lease')
})

t.test('the role polls until stopped, and stops after its pass', async (t) => {
  const fx = await syncFixture(t, { TRACKING_POLL_INTERVAL_MS: 20 })
  fx.worker.startPollers()
  await fx.add('SBXDELIVERED7001')
  for (let i = 0; i < 200 && (await fx.log('SBXDELIVERED7001')).length === 0; i++) await new Promise((r) => setTimeout(r, 25))
  await fx.worker.stop()
  t.match(await fx.log('SBXDELIVERED7001'), [{ success: true }], 'the running role checked the new tracking')
  const passes = fx.worker.carriers!.passes
  await new Promise((r) => setTimeout(r, 60))
  t.equal(fx.worker.carriers!.passes, passes, 'no pass after stop')
})
