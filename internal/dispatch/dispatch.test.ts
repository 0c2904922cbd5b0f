import t from 'tap'
import { loadConfig } from '../config/config.js'
import { buildDispatch, dispatchBus } from '../app/dispatch.js'
import { redisPackageCache } from '../app/stores.js'
import { silentLog, WORKER_TEST_ENV } from '../app/testing/worker.js'
import { createPool } from '../platform/db/postgres.js'
import { eventually, testVhost } from '../platform/testing/broker.js'
import { fleetGateway } from './testing/fleet.js'

// Dispatch in process, as cmd/dispatch builds it (own pool, own broker connection),
// beside a gateway on the same data and vhost; its clock is moved by hand for timeouts.

const amqpUrl = await testVhost(t)
const fleet = await fleetGateway(t, amqpUrl)
const { gw, admin, call } = fleet
const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATABASE_URL: gw.urls.databaseUrl,
  AMQP_URL: amqpUrl,
  ...WORKER_TEST_ENV,
  DISPATCH_AUTO_ASSIGN: 'true',
  // Sweeps happen when a test calls them.
  DISPATCH_SWEEP_INTERVAL_MS: '600000',
})
let skewMs = 0
const pool = createPool({ url: gw.urls.databaseUrl, schema: `${gw.schema},public`, max: 5 })
const bus = dispatchBus(config, { instanceId: 'dispatch-test', log: silentLog })
await bus.start()
const dispatch = await buildDispatch({ config, pool, bus, cache: redisPackageCache(config, gw.redis), clock: () => new Date(Date.now() + skewMs), log: silentLog })
await dispatch.start()
t.teardown(async () => {
  await dispatch.stop()
  await bus.close()
  await pool.end()
})

const berlin = { lat: 52.52, lng: 13.405 }
const potsdam = { lat: 52.39, lng: 13.06 }
const munich = { lat: 48.14, lng: 11.58 }

t.test('PUT /me/shift: drivers only; GET /drivers shows it', async (t) => {
  const d = await gw.user('driver')
  const customer = await gw.user('customer')
  const on = await call('PUT', '/me/shift', d.token, { onShift: true })
  t.equal(on.statusCode, 200)
  t.match(on.json(), { driverId: d.id, onShift: true, changedAt: String })
  t.equal((await call('PUT', '/me/shift', d.token, { onShift: true })).json().changedAt, on.json().changedAt, 'the same state again keeps changedAt')
  t.equal((await call('PUT', '/me/shift', customer.token, { onShift: true })).statusCode, 403, 'a customer')
  t.equal((await call('PUT', '/me/shift', admin.token, { onShift: true })).statusCode, 403, 'an admin has no shift')
  const bad = await call('PUT', '/me/shift', d.token, { onShift: 'yes' })
  t.match(bad.json(), { statusCode: 400, code: 'validation_failed', details: [{ path: '/onShift' }] })
  const listed = (await call('GET', '/drivers', admin.token)).json().items as Array<{ id: string; onShift: boolean }>
  t.equal(listed.find((x) => x.id === d.id)?.onShift, true)
  await call('PUT', '/me/shift', d.token, { onShift: false })
  const after = (await call('GET', '/drivers', admin.token)).json().items as Array<{ id: string; onShift: boolean }>
  t.equal(after.find((x) => x.id === d.id)?.onShift, false)
})

t.test('a new package goes to the driver on shift with the fewest active, nearest on a tie', async (t) => {
  await fleet.clearShifts()
  const busy = await fleet.driver('Busy', { at: berlin })
  // Busy carries one package already: staff offered it when creating it, so dispatch leaves that one alone.
  const held = await fleet.order(berlin, { driverId: busy.id })
  await fleet.driver('Far', { at: munich })
  const near = await fleet.driver('Near', { at: potsdam })
  await fleet.driver('Nearest but off shift', { onShift: false, at: berlin })
  await fleet.driver('Nowhere')

  const tn = await fleet.order(berlin)
  const [offer] = await fleet.offered(tn, (a) => a.state === 'offered', 'the offer')
  t.match(offer, { driverId: near.id, assignedBy: 'dispatch', state: 'offered' }, 'idle and nearest on shift')
  t.match(await fleet.history(held), [{ driverId: busy.id, state: 'offered', assignedBy: admin.id }], 'staff\'s offer stands alone')
  const external = await fleet.order(berlin, { carrier: 'ups' })
  const third = await fleet.order(berlin)
  await fleet.offered(third, (a) => a.state === 'offered', 'a later own-fleet package is offered')
  t.same(await fleet.history(external), [], 'an external carrier\'s package is not dispatched')
})

t.test('a driver who declines is passed over for the next', async (t) => {
  await fleet.clearShifts()
  const first = await fleet.driver('First', { at: berlin })
  const second = await fleet.driver('Second', { at: munich })
  const tn = await fleet.order(berlin)
  await fleet.offered(tn, (a) => a.driverId === first.id, 'the offer to the nearest')
  t.equal((await call('POST', `/packages/${tn}/assignment/decline`, first.token)).statusCode, 200)
  const h = await fleet.offered(tn, (a) => a.driverId === second.id && a.state === 'offered', 'the offer to the next driver')
  t.match(h, [{ driverId: first.id, state: 'declined' }, { driverId: second.id, state: 'offered', assignedBy: 'dispatch' }])

  t.equal((await call('POST', `/packages/${tn}/assignment/decline`, second.token)).statusCode, 200)
  await eventually(async () => (await dispatch.metrics.registry.getSingleMetricAsString('delivertrack_dispatch_waiting_total')).match(/ (\d+)$/m)?.[1] !== '0', 'dispatch to find nobody left')
  t.equal((await fleet.history(tn)).length, 2, 'nobody is offered it twice')
  const third = await fleet.driver('Third')
  await dispatch.sweep()
  await fleet.offered(tn, (a) => a.driverId === third.id && a.state === 'offered', 'the sweep offers it to a driver who came on shift')
})

t.test('an offer unanswered for DISPATCH_ACCEPT_TIMEOUT_S goes to the next driver', async (t) => {
  await fleet.clearShifts()
  const slow = await fleet.driver('Slow', { at: berlin })
  const quick = await fleet.driver('Quick', { at: munich })
  const tn = await fleet.order(berlin)
  const [offer] = await fleet.offered(tn, (a) => a.driverId === slow.id, 'the offer to the nearest')
  skewMs += (config.DISPATCH_ACCEPT_TIMEOUT_S - 10) * 1000
  await dispatch.sweep()
  t.equal((await fleet.history(tn)).length, 1, 'not before the timeout')
  skewMs += 20_000
  await dispatch.sweep()
  const h = await fleet.history(tn)
  t.match(h, [{ id: offer!.id, driverId: slow.id, state: 'cancelled' }, { driverId: quick.id, state: 'offered', assignedBy: 'dispatch' }], 'cancelled and offered in one step')
  t.equal((await call('POST', `/packages/${tn}/assignment/accept`, slow.token)).statusCode, 404, 'the passed-over driver can no longer accept')
  t.equal((await call('POST', `/packages/${tn}/assignment/accept`, quick.token)).statusCode, 200)
  skewMs += config.DISPATCH_ACCEPT_TIMEOUT_S * 2000
  await dispatch.sweep()
  t.match(await fleet.history(tn), [{ state: 'cancelled' }, { driverId: quick.id, state: 'accepted' }], 'an accepted offer is never timed out')
})

t.test('staff assigning at the same moment as dispatch: one offer per package, never two', async (t) => {
  await fleet.clearShifts()
  await fleet.driver('Dispatch pick', { at: berlin })
  const chosen = await fleet.driver('Staff pick', { onShift: false })
  const packages = await Promise.all(Array.from({ length: 12 }, () => fleet.order(berlin)))
  // Staff assign while dispatch consumes the same packages' package.created.
  const answers = await Promise.all(packages.map((tn) => call('POST', `/packages/${tn}/assignment`, admin.token, { driverId: chosen.id })))
  const settled = await eventually(async () => {
    const histories = await Promise.all(packages.map((tn) => fleet.history(tn)))
    const { rows } = await gw.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${gw.schema}_dispatch.packages WHERE tracking_number = ANY($1) AND state <> 'open'`, [packages])
    return rows[0]!.n === packages.length && histories
  }, 'dispatch to handle every package')
  let staffWon = 0
  packages.forEach((tn, i) => {
    const h = settled[i]!
    t.equal(h.length, 1, `${tn}: exactly one offer`)
    if (answers[i]!.statusCode === 201) {
      staffWon++
      t.equal(h[0]!.assignedBy, admin.id, `${tn}: staff's offer stands`)
    } else {
      t.match(answers[i]!.json(), { code: 'already_assigned' })
      t.equal(h[0]!.assignedBy, 'dispatch', `${tn}: dispatch's offer stands`)
    }
  })
  t.comment(`staff won ${staffWon} of ${packages.length} races`)
})
