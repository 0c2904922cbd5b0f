import t from 'tap'
import { api, errorBody } from '../package/fixtures.test.js'
import { testGateway } from '../app/testing/gateway.js'
import { north } from './contract.js'

const at = (s: number) => new Date(Date.parse('2025-03-01T12:00:00.000Z') + s * 1000).toISOString()

t.test('location reads', async (t) => {
  const gw = await testGateway(t)
  const { call, create, patch, assign } = api(gw)
  const admin = await gw.user('admin')
  const operator = await gw.user('operator')
  const customer = await gw.user('customer')
  const driver = await gw.user('driver')
  const pkg = await create(admin.token)
  const tn = pkg.trackingNumber
  const { device, apiKey } = await gw.devices.create({ name: 'tracker', trackingNumber: tn })
  const post = (key: string, points: unknown[]) => gw.app.inject({ method: 'POST', url: '/api/v1/locations', headers: { 'x-api-key': key }, payload: { points } })
  const points = Array.from({ length: 6 }, (_, i) => ({ lat: 40 + i / 100, lng: -3.7, recordedAt: at(i), ...(i === 5 ? { accuracyM: 3, speedMps: 8, headingDeg: 45 } : {}) }))
  t.equal((await post(apiKey, points)).statusCode, 202)

  t.test('history: newest first, with since/until/limit', async (t) => {
    const res = await call('GET', `/packages/${tn}/locations`, { token: admin.token })
    t.equal(res.statusCode, 200)
    const { items } = res.json()
    t.same(items.map((i: { recordedAt: string }) => i.recordedAt), [5, 4, 3, 2, 1, 0].map(at))
    t.same(items[0], { lat: 40.05, lng: -3.7, recordedAt: at(5), accuracyM: 3, speedMps: 8, headingDeg: 45, deviceId: device.id })
    t.same(items[1], { lat: 40.04, lng: -3.7, recordedAt: at(4), deviceId: device.id })
    const window = await call('GET', `/packages/${tn}/locations?since=${at(1)}&until=${at(4)}&limit=2`, { token: admin.token })
    t.same(window.json().items.map((i: { recordedAt: string }) => i.recordedAt), [at(3), at(2)])
    const bad = await call('GET', `/packages/${tn}/locations?since=${at(4)}&until=${at(1)}`, { token: admin.token })
    t.match(bad.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/query/until' }] })
    t.match((await call('GET', `/packages/${tn}/locations?limit=0`, { token: admin.token })).json(), { statusCode: 400, details: [{ path: '/query/limit' }] })
    t.match((await call('GET', `/packages/${tn}/locations?since=soon`, { token: admin.token })).json(), { statusCode: 400, details: [{ path: '/query/since' }] })
  })

  t.test('history follows the package read rule', async (t) => {
    const read = (token: string) => call('GET', `/packages/${tn}/locations`, { token })
    t.equal((await read(operator.token)).statusCode, 200, 'operators read all')
    t.match((await read(customer.token)).json(), errorBody(404, 'not_found'), 'a customer not tracking it: 404')
    t.equal((await call('POST', '/me/trackings', { token: customer.token, payload: { trackingNumber: tn } })).statusCode, 201)
    t.match((await read(customer.token)).json(), errorBody(404, 'not_found'), 'tracking it: still 404, trackers get no coordinates')
    await patch(admin.token, tn, { customerId: customer.id })
    t.equal((await read(customer.token)).statusCode, 200, 'owning it: 200')
    t.match((await read(driver.token)).json(), errorBody(404, 'not_found'), 'an unassigned driver: 404')
    await assign(admin.token, tn, driver.id)
    t.equal((await read(driver.token)).statusCode, 200, 'assigned: 200')
    t.match((await call('GET', '/packages/NOSUCHPKG123/locations', { token: admin.token })).json(), errorBody(404, 'not_found'))
    t.match((await call('GET', `/packages/${tn}/locations`)).json(), errorBody(401, 'unauthorized'))
  })

  t.test('nearby: packages by last location, nearest first', async (t) => {
    const centre = { lat: -41.2865, lng: 174.7762 }
    const placed: Record<number, string> = {}
    for (const d of [2_000, 300, 9_000]) {
      const p = await create(admin.token)
      const k = await gw.devices.create({ name: `n${d}`, trackingNumber: p.trackingNumber })
      // The older point is far away: only the last location counts.
      await post(k.apiKey, [{ ...north(centre.lat, centre.lng, d), recordedAt: at(100) }, { lat: 0, lng: 0, recordedAt: at(50) }])
      placed[d] = p.trackingNumber
    }
    const res = await call('GET', `/locations/nearby?lat=${centre.lat}&lng=${centre.lng}&radiusM=5000`, { token: operator.token })
    t.equal(res.statusCode, 200, res.body)
    const items = res.json().items
    t.same(items.map((i: { trackingNumber: string }) => i.trackingNumber), [placed[300], placed[2_000]])
    t.match(items[0], { trackingNumber: placed[300], status: 'pending', lat: Number, lng: centre.lng, recordedAt: at(100), distanceM: Number })
    t.ok(Math.abs(items[0].distanceM - 300) < 1, `about 300 m (${items[0].distanceM})`)

    t.equal((await call('DELETE', `/packages/${placed[300]}`, { token: admin.token })).statusCode, 204)
    const after = (await call('GET', `/locations/nearby?lat=${centre.lat}&lng=${centre.lng}&radiusM=5000&limit=5`, { token: admin.token })).json().items
    t.same(after.map((i: { trackingNumber: string }) => i.trackingNumber), [placed[2_000]], 'a deleted package is gone')

    t.match((await call('GET', `/locations/nearby?lat=1&lng=1`, { token: customer.token })).json(), errorBody(403, 'forbidden'))
    t.match((await call('GET', `/locations/nearby?lng=1`, { token: admin.token })).json(), { statusCode: 400, details: [{ path: '/query/lat' }] })
    t.match((await call('GET', `/locations/nearby?lat=1&lng=200`, { token: admin.token })).json(), { statusCode: 400, details: [{ path: '/query/lng' }] })
    t.match((await call('GET', `/locations/nearby?lat=1&lng=1&radiusM=0`, { token: admin.token })).json(), { statusCode: 400, details: [{ path: '/query/radiusM' }] })
  })
})
