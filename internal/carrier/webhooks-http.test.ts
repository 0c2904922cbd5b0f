import { createHmac } from 'node:crypto'
import t from 'tap'
import { utcDay } from './plan.js'
import { syncFixture, type SyncFixture } from './testing/sync.js'

// Provider pushes through the gateway: the sandbox provider is verified as AfterShip.

const SECRET = 'whsec-test-0123456789'

const pushBody = (tn: string) => JSON.stringify({
  event: 'tracking_update',
  msg: {
    tracking_number: tn,
    slug: 'ups',
    tag: 'InTransit',
    checkpoints: [
      { checkpoint_time: '2026-01-05T08:00:00Z', message: 'Picked up by carrier', city: 'Chicago', tag: 'InTransit', coordinate: { latitude: 41.8781, longitude: -87.6298 } },
      { checkpoint_time: '2026-01-05T20:00:00Z', message: 'Departed hub', city: 'Denver', tag: 'InTransit' },
    ],
  },
  ts: 1767600000,
})

const push = (fx: SyncFixture, body: string, signature?: string, provider = 'sandbox') =>
  fx.gw.app.inject({
    method: 'POST',
    url: `/api/v1/carrier-webhooks/${provider}`,
    headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'aftership-hmac-sha256': signature }) },
    payload: body,
  })

const sign = (body: string) => createHmac('sha256', SECRET).update(body).digest('base64')

t.test('a signed push is applied once, logged as a webhook and costs no budget', async (t) => {
  const fx = await syncFixture(t, { CARRIER_WEBHOOK_SECRET: SECRET })
  const tn = 'SBXINTRANSIT0501'
  await fx.add(tn)
  const dueBefore = (await fx.tracking(tn)).next_update_due as Date
  const body = pushBody(tn)

  t.match((await push(fx, body)).json(), { statusCode: 401, code: 'unauthorized' }, 'missing signature')
  t.match((await push(fx, body, sign(body.replace('Denver', 'Boston')))).json(), { statusCode: 401, code: 'unauthorized' }, 'a signature over another body')
  t.match((await push(fx, body, sign(body), 'easypost')).json(), { statusCode: 404 }, 'not the configured provider')
  t.equal((await fx.get(`/track/${tn}`)).json().status, 'pending', 'refused pushes changed nothing')

  const res = await push(fx, body, sign(body))
  t.equal(res.statusCode, 202, res.body)
  t.same(res.json(), { applied: true, eventsAdded: 2 })
  const view = (await fx.get(`/track/${tn}`)).json()
  t.match(view, { status: 'in_transit', lastCheckedAt: String })
  t.same(view.events.map((e: { note?: string }) => e.note ?? null), [null, 'Picked up by carrier', 'Departed hub'])
  const tracking = await fx.tracking(tn)
  t.ok((tracking.next_update_due as Date).getTime() > dueBefore.getTime(), 'the next check moved later')
  t.match(await fx.log(tn), [{ type: 'webhook', triggered_by: 'sandbox', provider: 'sandbox', success: true, status_changed: true, previous_status: 'pending', new_status: 'in_transit', events_added: 2 }])
  const { rows } = await fx.gw.pool.query('SELECT used FROM carrier_budget WHERE day = $1', [utcDay(fx.clock.now())])
  t.same(rows, [], 'no provider call was counted')

  const again = await push(fx, body, sign(body))
  t.same(again.json(), { applied: true, eventsAdded: 0 }, 'a repeated push adds nothing')
  t.equal((await fx.get(`/track/${tn}`)).json().events.length, 3, 'no new event')
  t.same((await push(fx, pushBody('NOTOURS00001'), sign(pushBody('NOTOURS00001')))).json(), { applied: false, eventsAdded: 0 }, 'a number we do not track is acknowledged')
  const logged = (await fx.get(`/carrier-sync/log?trackingNumber=${tn}`, fx.admin.token)).json().items
  t.match(logged, [{ type: 'webhook', eventsAdded: 0 }, { type: 'webhook', eventsAdded: 2, statusChanged: true }])

  fx.clock.advanceMinutes(5)
  t.match(await fx.sync.runOnce(), { claimed: 0 }, 'the scheduled check is no longer due')
})

t.test('no secret configured: every push is refused', async (t) => {
  const fx = await syncFixture(t)
  const body = pushBody('SBXINTRANSIT0502')
  t.equal((await push(fx, body, sign(body))).statusCode, 401)
})

t.test('while pushes arrive the schedule only polls as a safety net; news a push missed ends that', async (t) => {
  const fx = await syncFixture(t, { CARRIER_WEBHOOK_SECRET: SECRET })
  const tn = 'SBXINTRANSIT0503'
  await fx.add(tn)
  t.match(await fx.sync.runOnce(), { called: 1 }, 'the first check registers it at the sandbox')
  const body = pushBody(tn)
  t.equal((await push(fx, body, sign(body))).statusCode, 202)
  let tracking = await fx.tracking(tn)
  t.ok(tracking.last_pushed_at, 'the push is remembered')
  t.equal(tracking.interval_s, 86_400, 'in transit, but fed by pushes: TRACKING_PUSHED_FREQ (a day) instead of 2 h')
  const dueInMin = ((tracking.next_update_due as Date).getTime() - (tracking.last_checked_at as Date).getTime()) / 60_000
  t.ok(dueInMin >= 1440 * 0.9 && dueInMin <= 1440 * 1.5 * 1.1, `the safety-net check is a day away (${Math.round(dueInMin)} min)`)

  // The carrier scanned it and no push came: the safety-net check finds it.
  fx.sandbox.state.advance(7 * 60)
  await fx.gw.pool.query('UPDATE carrier_trackings SET next_update_due = $1', [fx.clock.now()])
  t.match(await fx.sync.runOnce(), { called: 1 })
  tracking = await fx.tracking(tn)
  t.equal(tracking.last_pushed_at, null, 'pushes are not arriving for it')
  t.equal(tracking.interval_s, 7_200, 'so the in-transit schedule applies again')
})

t.test('pushes have their own rate limit, apart from the per-caller RATE_LIMIT_MAX', async (t) => {
  const fx = await syncFixture(t, { CARRIER_WEBHOOK_SECRET: SECRET, RATE_LIMIT_MAX: 5 })
  const tn = 'SBXINTRANSIT0504'
  await fx.add(tn)
  const body = pushBody(tn)
  const codes = []
  for (let i = 0; i < 12; i++) codes.push((await push(fx, body, sign(body))).statusCode)
  t.same(codes, Array(12).fill(202), 'a burst of twelve pushes from one address is taken, with RATE_LIMIT_MAX at 5')
  t.equal((await fx.get(`/track/${tn}`)).statusCode, 200, 'and the same address still has its own requests')
})
