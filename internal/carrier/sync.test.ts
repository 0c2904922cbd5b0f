import t from 'tap'
import { NOT_FOUND_NOTE } from './plan.js'
import { syncFixture } from './testing/sync.js'

// The carriers role against the sandbox provider, on the real PostgreSQL and Redis.

t.test('a tracking added with a carrier gets its journey once the worker runs', async (t) => {
  const fx = await syncFixture(t, {}, { fromMonday: true })
  const tn = 'SBXDELIVERED0001'
  t.equal((await fx.add(tn)).statusCode, 201)
  const before = (await fx.get(`/track/${tn}`)).json()
  t.match(before, { status: 'pending', lastCheckedAt: null, events: [{ status: 'pending' }] }, 'not asked yet')

  t.match(await fx.sync.runOnce(), { claimed: 1, called: 1 })
  const labelled = (await fx.get(`/track/${tn}`)).json()
  t.match(labelled, { status: 'info_received', lastCheckedAt: fx.clock.now().toISOString() }, 'the cached view was dropped after the check')
  t.match(labelled.events[1], { status: 'info_received', note: 'Shipping label created, carrier awaiting item' })

  fx.clock.advanceMinutes(49 * 60)
  t.match(await fx.sync.runOnce(), { called: 1 })
  const done = (await fx.get(`/track/${tn}`)).json()
  t.equal(done.status, 'delivered')
  t.same(done.events.map((e: { status: string }) => e.status), ['pending', 'info_received', 'in_transit', 'in_transit', 'in_transit', 'out_for_delivery', 'delivered'])
  t.match(done.events[2], { note: 'Picked up by carrier', city: 'Chicago' })
  const created = Date.parse(labelled.events[1].occurredAt)
  t.equal(Date.parse(done.events[6].occurredAt) - created, 48 * 3_600_000, 'each event is dated at its scan, not at the check')

  const events = (await fx.get(`/packages/${tn}/events`, fx.admin.token)).json().items
  t.match(events.find((e: { data: { note?: string } }) => e.data.note === 'Picked up by carrier'), { data: { status: 'in_transit', location: { lat: 41.8781, lng: -87.6298, city: 'Chicago' } }, actor: { type: 'carrier', id: 'ups' } }, 'staff see the carrier as who moved it')
  const staff = (await fx.get(`/packages/${tn}`, fx.admin.token)).json()
  t.match(staff, { sender: { name: 'Unknown sender' }, recipient: { name: 'Unknown recipient' }, estimatedDelivery: done.estimatedDelivery })
  t.match(staff.sync, { provider: 'sandbox', lastCheckedAt: fx.clock.now().toISOString(), nextCheckAt: null, consecutiveFailures: 0, requiresAttention: false, notFound: false }, 'final: never asked again')
  t.notOk('sync' in (await fx.get(`/packages/${tn}`, fx.customer.token)).json(), 'customers do not see sync')
  t.match((await fx.get(`/packages?q=${tn}`, fx.admin.token)).json().items, [{ trackingNumber: tn, sync: { provider: 'sandbox', nextCheckAt: null } }], 'and in the staff list')
  const list = (await fx.get('/me/trackings', fx.customer.token)).json().items
  t.match(list, [{ trackingNumber: tn, lastCheckedAt: fx.clock.now().toISOString(), package: { view: 'public', status: 'delivered' } }])

  fx.clock.advanceMinutes(7 * 24 * 60)
  t.match(await fx.sync.runOnce(), { claimed: 0 }, 'a delivered tracking is not claimed again')
  t.match(await fx.log(tn), [
    { type: 'scheduled', triggered_by: 'schedule', success: true, status_changed: true, previous_status: 'pending', new_status: 'info_received', events_added: 2 },
    { success: true, previous_status: 'info_received', new_status: 'delivered' },
  ], 'every call is in the update log')
})

t.test('an unchanged answer writes no event', async (t) => {
  const fx = await syncFixture(t, {}, { fromMonday: true })
  const tn = 'SBXINTRANSIT0001'
  await fx.add(tn)
  await fx.sync.runOnce()
  fx.clock.advanceMinutes(25 * 60) // the pre-shipment interval; every scan of this journey is there by then
  t.match(await fx.sync.runOnce(), { called: 1 })
  t.equal((await fx.get(`/track/${tn}`)).json().status, 'in_transit')
  const seq = (await fx.get(`/packages/${tn}`, fx.admin.token)).json().version
  fx.clock.advanceMinutes(4 * 60)
  t.match(await fx.sync.runOnce(), { called: 1 }, 'asked again on schedule')
  t.equal((await fx.get(`/packages/${tn}`, fx.admin.token)).json().version, seq, 'the package did not change')
  t.match((await fx.log(tn)).at(-1), { success: true, status_changed: false, events_added: 0 })
  t.equal((await fx.get(`/track/${tn}`)).json().lastCheckedAt, fx.clock.now().toISOString(), 'but its freshness did')
})

t.test('a number the carrier never heard of stops with a clear state', async (t) => {
  const fx = await syncFixture(t, {}, { fromMonday: true })
  const tn = 'SBXUNKNOWN0001'
  await fx.add(tn)
  await fx.sync.runOnce()
  t.equal((await fx.get(`/track/${tn}`)).json().status, 'pending', 'still waiting for a first scan')
  fx.clock.advanceMinutes(25 * 60)
  t.match(await fx.sync.runOnce(), { called: 1 })
  const view = (await fx.get(`/track/${tn}`)).json()
  t.match(view, { status: 'expired' })
  t.equal(view.events.at(-1).note, NOT_FOUND_NOTE)
  t.match((await fx.get(`/packages/${tn}`, fx.admin.token)).json().sync, { notFound: true, nextCheckAt: null })
  fx.clock.advanceMinutes(3 * 24 * 60)
  t.match(await fx.sync.runOnce(), { claimed: 0 }, 'no endless retry')
})

t.test('provider faults: 429 honours retry-after, 5xx and timeouts back off, failures raise attention', async (t) => {
  const fx = await syncFixture(t, { TRACKING_MAX_FAILURES: 3, TRACKING_API_TIMEOUT: 150 }, { fromMonday: true })
  const tn = 'SBXINTRANSIT0002'
  await fx.add(tn)
  const dueIn = async () => ((await fx.tracking(tn)).next_update_due as Date).getTime() - fx.clock.ms

  fx.sandbox.state.addFault({ mode: 'rate_limit', retryAfterS: 7 }, 1)
  await fx.sync.runOnce()
  t.match(await fx.tracking(tn), { consecutive_failures: 1, priority: 75, last_status_code: 429 })
  t.equal(await dueIn(), 7_000, 'asked again when retry-after says')
  fx.clock.ms += 6_000
  t.match(await fx.sync.runOnce(), { claimed: 0 }, 'not before')
  fx.clock.ms += 1_000
  t.match(await fx.sync.runOnce(), { called: 1 })
  t.match(await fx.tracking(tn), { consecutive_failures: 0, requires_attention: false, priority: 100 })

  fx.clock.advanceMinutes(25 * 60) // due again on the pre-shipment schedule
  fx.sandbox.state.addFault({ mode: 'server_error', status: 502 }, 2)
  fx.sandbox.state.addFault({ mode: 'timeout' }, 1)
  const delays: number[] = []
  for (let i = 0; i < 3; i++) {
    t.match(await fx.sync.runOnce(), { called: 1 })
    delays.push(await dueIn())
    fx.clock.ms += delays[i]!
  }
  t.same(delays, [60_000, 300_000, 900_000], 'retries after 60, 300, 900 s')
  t.match(await fx.tracking(tn), { consecutive_failures: 3, requires_attention: true, last_error: 'provider did not answer in time' })
  t.match((await fx.get(`/packages/${tn}`, fx.admin.token)).json().sync, { consecutiveFailures: 3, requiresAttention: true })
  const failed = (await fx.log(tn)).filter((l) => !l.success)
  t.same(failed.map((l) => l.status_code), [429, 502, 502, null], 'each failed call is logged')

  t.match(await fx.sync.runOnce(), { called: 1 })
  t.match(await fx.tracking(tn), { consecutive_failures: 0, requires_attention: false }, 'a good answer clears it')
})
