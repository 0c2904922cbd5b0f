import t from 'tap'
import { api, errorBody } from '../package/fixtures.test.js'
import { testGateway, type TestGateway } from '../app/testing/gateway.js'

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString()
const good = (i = 0) => ({ lat: 52.52 + i / 10_000, lng: 13.405, recordedAt: ago(600 - i), accuracyM: 5, speedMps: 12.5, headingDeg: 90 })

async function device(gw: TestGateway, trackingNumber?: string) {
  return gw.devices.create({ name: 'tracker', trackingNumber })
}

function post(gw: TestGateway, key: string, payload: unknown, remoteAddress?: string) {
  return gw.app.inject({ method: 'POST', url: '/api/v1/locations', headers: { 'x-api-key': key }, payload: payload as object, ...(remoteAddress ? { remoteAddress } : {}) })
}

t.test('location ingest', async (t) => {
  const gw = await testGateway(t)
  const { create, get } = api(gw)
  const admin = await gw.user('admin')
  const pkg = await create(admin.token)
  const { apiKey } = await device(gw, pkg.trackingNumber)

  t.test('every field is validated, with the path of the bad point', async (t) => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['lat above 90', { lat: 90.0001 }, '/points/3/lat'],
      ['lat below -90', { lat: -91 }, '/points/3/lat'],
      ['lat not a number', { lat: 'north' }, '/points/3/lat'],
      ['lng above 180', { lng: 180.5 }, '/points/3/lng'],
      ['lng below -180', { lng: -181 }, '/points/3/lng'],
      ['recordedAt not a time', { recordedAt: 'yesterday' }, '/points/3/recordedAt'],
      ['recordedAt without zone', { recordedAt: '2024-01-01T10:00:00' }, '/points/3/recordedAt'],
      ['accuracyM negative', { accuracyM: -1 }, '/points/3/accuracyM'],
      ['speedMps negative', { speedMps: -0.5 }, '/points/3/speedMps'],
      ['speedMps absurd', { speedMps: 5_000 }, '/points/3/speedMps'],
      ['headingDeg above 360', { headingDeg: 361 }, '/points/3/headingDeg'],
      ['headingDeg negative', { headingDeg: -1 }, '/points/3/headingDeg'],
    ]
    for (const [what, change, path] of cases) {
      const points = [good(0), good(1), good(2), { ...good(3), ...change }]
      const res = await post(gw, apiKey, { points })
      t.equal(res.statusCode, 400, what)
      t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path, message: String }] }, what)
    }
    for (const field of ['lat', 'lng', 'recordedAt']) {
      const { [field]: _gone, ...rest } = good(0) as Record<string, unknown>
      const res = await post(gw, apiKey, { points: [rest] })
      t.match(res.json(), { statusCode: 400, code: 'validation_failed', details: [{ path: `/points/0/${field}` }] }, `${field} is required`)
    }
    for (const [what, body] of [['no points', {}], ['empty points', { points: [] }], ['points not a list', { points: good() }]] as const) {
      t.match((await post(gw, apiKey, body)).json(), { statusCode: 400, code: 'validation_failed', details: [{ path: '/points' }] }, what)
    }
    t.equal((await get(admin.token, pkg.trackingNumber)).lastLocation, undefined, 'nothing was stored')
  })

  t.test('1 to 1000 points: 1001 are refused whole', async (t) => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ lat: -10 + i / 1000, lng: 20, recordedAt: ago(5_000 - i) }))
    const refused = await post(gw, apiKey, { points: many(1001) })
    t.match(refused.json(), { statusCode: 400, code: 'validation_failed', details: [{ path: '/points' }] })
    const { apiKey: other } = await device(gw, pkg.trackingNumber)
    const accepted = await post(gw, other, { points: many(1000) })
    t.equal(accepted.statusCode, 202, accepted.body)
    t.same(accepted.json(), { accepted: 1000, duplicates: 0 })
  })

  t.test('recordedAt more than 5 minutes ahead is refused', async (t) => {
    const ahead = (s: number) => new Date(Date.now() + s * 1000).toISOString()
    const res = await post(gw, apiKey, { points: [good(0), { ...good(1), recordedAt: ahead(6 * 60) }] })
    t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/points/1/recordedAt', message: /future/ }] })
    const { apiKey: skewed } = await device(gw, (await create(admin.token)).trackingNumber)
    t.equal((await post(gw, skewed, { points: [{ ...good(0), recordedAt: ahead(4 * 60) }] })).statusCode, 202, 'a clock 4 minutes ahead is fine')
  })

  t.test('duplicates are counted, not refused', async (t) => {
    const own = await create(admin.token)
    const { apiKey: key } = await device(gw, own.trackingNumber)
    const points = [good(10), good(11), good(12)]
    t.same((await post(gw, key, { points })).json(), { accepted: 3, duplicates: 0 })
    const again = await post(gw, key, { points })
    t.equal(again.statusCode, 202)
    t.same(again.json(), { accepted: 0, duplicates: 3 })
    t.same((await post(gw, key, { points: [points[2], good(13)] })).json(), { accepted: 1, duplicates: 1 })
  })

  t.test('telemetry the contract does not name is ignored, not a reason to refuse the batch', async (t) => {
    const own = await create(admin.token)
    const { apiKey: key } = await device(gw, own.trackingNumber)
    const res = await post(gw, key, { points: [{ ...good(30), altitudeM: 41, batteryPct: 87 }, good(31)] })
    t.equal(res.statusCode, 202, res.body)
    t.same(res.json(), { accepted: 2, duplicates: 0 })
    const history = await gw.app.inject({ method: 'GET', url: `/api/v1/packages/${own.trackingNumber}/locations`, headers: { authorization: `Bearer ${admin.token}` } })
    t.equal(history.json().items.length, 2)
    t.notOk(history.body.includes('batteryPct') || history.body.includes('altitudeM'), 'and not stored')
  })

  t.test('an Idempotency-Key replays the first answer to the same device', async (t) => {
    const own = await create(admin.token)
    const { apiKey: key } = await device(gw, own.trackingNumber)
    const payload = { points: [good(20), good(21)] }
    const send = (k: string) => gw.app.inject({ method: 'POST', url: '/api/v1/locations', headers: { 'x-api-key': k, 'idempotency-key': 'batch-42' }, payload })
    const first = await send(key)
    t.same(first.json(), { accepted: 2, duplicates: 0 })
    const again = await send(key)
    t.equal(again.headers['idempotent-replay'], 'true')
    t.same([again.statusCode, again.json()], [202, { accepted: 2, duplicates: 0 }], 'the stored answer, not "2 duplicates"')
    const { apiKey: other } = await device(gw, own.trackingNumber)
    const otherDevice = await send(other)
    t.notOk(otherDevice.headers['idempotent-replay'], 'keys are scoped to the device, not the client IP')
    t.same(otherDevice.json(), { accepted: 2, duplicates: 0 })
  })

  t.test('lastLocation only moves forward, and cached reads see it move', async (t) => {
    const own = await create(admin.token)
    const { apiKey: key } = await device(gw, own.trackingNumber)
    t.equal((await get(admin.token, own.trackingNumber)).lastLocation, undefined, 'read (and cached) before any location')
    const t10 = { lat: 48.858844, lng: 2.294351, recordedAt: ago(100) }
    const t5 = { lat: 1, lng: 1, recordedAt: ago(200) }
    const t20 = { lat: 48.86, lng: 2.3, recordedAt: ago(50) }
    await post(gw, key, { points: [t10] })
    t.same((await get(admin.token, own.trackingNumber)).lastLocation, t10)
    t.same((await post(gw, key, { points: [t5] })).json(), { accepted: 1, duplicates: 0 }, 'an older point is stored')
    t.same((await get(admin.token, own.trackingNumber)).lastLocation, t10, 'but does not move lastLocation back')
    await post(gw, key, { points: [t20, { lat: 2, lng: 2, recordedAt: ago(150) }] })
    t.same((await get(admin.token, own.trackingNumber)).lastLocation, t20, 'the newest point of a batch wins, whatever its place')
  })
})

t.test('a device key has its own rate limit', async (t) => {
  const gw = await testGateway(t, { RATE_LIMIT_MAX: '3' })
  const pkg = await gw.packages.create({ sender: { name: 's' }, recipient: { name: 'r' } })
  const a = await device(gw, pkg.trackingNumber)
  const b = await device(gw, pkg.trackingNumber)
  for (let i = 0; i < 3; i++) {
    const res = await post(gw, a.apiKey, { points: [good(i)] })
    t.equal(res.statusCode, 202, `request ${i + 1}`)
    t.equal(res.headers['x-ratelimit-remaining'], String(2 - i))
  }
  const limited = await post(gw, a.apiKey, { points: [good(5)] })
  t.match(limited.json(), errorBody(429, 'rate_limited'))
  t.ok(limited.headers['retry-after'], 'with retry-after')
  t.equal((await post(gw, b.apiKey, { points: [good(6)] })).statusCode, 202, 'another key on the same IP has its own bucket')

  const wrong = `dtk_aaaaaaaa_${'x'.repeat(43)}`
  const tries = []
  for (let i = 0; i < 4; i++) tries.push((await post(gw, wrong, { points: [good()] }, '203.0.113.9')).statusCode)
  t.same(tries, [401, 401, 401, 429], 'guessing keys is limited per client IP')
})
