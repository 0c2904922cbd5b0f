import t from 'tap'
import { bearer } from '../app/testing/gateway.js'
import { syncFixture } from './testing/sync.js'

// The carriers role's cleanup and the carrier check on POST /me/trackings.

t.test('cleanup deactivates long-final trackings and prunes old log rows, once per interval', async (t) => {
  const fx = await syncFixture(t, { TRACKING_CACHE_TTL: 72, TRACKING_CLEANUP_INTERVAL: 3600 })
  const cancelled = 'SBXINTRANSIT0601'
  const delivered = 'SBXDELIVERED0601'
  await fx.add(cancelled)
  await fx.add(delivered)
  await fx.sync.runOnce()
  fx.clock.advanceMinutes(49 * 60)
  await fx.sync.runOnce()
  t.equal((await fx.get(`/track/${delivered}`)).json().status, 'delivered')
  // An admin ends a tracking by hand: the sync would keep asking until cleanup.
  const res = await fx.gw.app.inject({ method: 'POST', url: `/api/v1/packages/${cancelled}/status`, headers: bearer(fx.admin.token), payload: { status: 'cancelled', force: true } })
  t.equal(res.statusCode, 200, res.body)
  t.equal((await fx.tracking(cancelled)).active, true)
  const { rows: [{ id: pkgId }] } = await fx.gw.pool.query('SELECT package_id AS id FROM carrier_trackings LIMIT 1')
  await fx.gw.pool.query(
    `INSERT INTO carrier_update_log (package_id, tracking_number, carrier, provider, type, triggered_by, success, duration_ms, started_at)
     VALUES ($1, 'OLD00000001', 'ups', 'sandbox', 'scheduled', 'schedule', true, 5, $2)`,
    [pkgId, new Date(fx.clock.ms - 31 * 86_400_000)],
  )

  const cleanup = fx.worker.carrierCleanup!
  t.same(await cleanup.tick(), { deactivated: 0, checkpointsDropped: 0, logsPruned: 1 }, 'nothing final for 72 h yet; the 31-day-old log row goes')
  t.equal(await cleanup.tick(), null, 'not due again within the interval')
  fx.clock.advanceMinutes(73 * 60)
  const run = await cleanup.tick()
  t.match(run, { deactivated: 1, logsPruned: 0 })
  t.ok(run!.checkpointsDropped >= 6, 'the delivered journey\'s checkpoint ids went')
  t.match(await fx.tracking(cancelled), { active: false, next_update_due: null })
  t.match(await fx.sync.runOnce(), { claimed: 0 }, 'the cancelled tracking is not asked about again')
  t.equal((await fx.log(delivered)).length, 2, 'recent log rows stay')

  const jobs = (await fx.get('/carrier-sync/jobs?type=cleanup', fx.admin.token)).json()
  t.match(jobs.counts.cleanup, { pending: 0, running: 0, completed: 2, failed: 0 })
  t.same(jobs.items, [])
})

t.test('POST /me/trackings refuses an unknown carrier slug and a malformed number', async (t) => {
  const fx = await syncFixture(t)
  const slug = await fx.add('SBXOFD0601', 'upz')
  t.equal(slug.statusCode, 400)
  t.match(slug.json(), { code: 'validation_failed', details: [{ path: '/carrier' }] })
  t.equal((await fx.get('/track/SBXOFD0601')).statusCode, 404, 'nothing was created')
  t.match((await fx.add('SHORT', 'ups')).json(), { statusCode: 400, details: [{ path: '/trackingNumber' }] })
  t.equal((await fx.add('SBXOFD0601', ' DHL ')).statusCode, 201, 'known slugs in any case and spacing')
  t.equal((await fx.add('SBXOFD0602', 'easyparcel')).statusCode, 201)
})
