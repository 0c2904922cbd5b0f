import t from 'tap'
import { api, errorBody } from '../package/fixtures.test.js'
import { testGateway } from '../app/testing/gateway.js'

const point = () => ({ points: [{ lat: 52.5, lng: 13.4, recordedAt: new Date().toISOString() }] })

t.test('devices and their API keys', async (t) => {
  const gw = await testGateway(t)
  const { call: base, create } = api(gw)
  // The package helpers know no PUT.
  type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'
  const call = (method: Method, url: string, opts: { token?: string; payload?: unknown } = {}) =>
    method === 'PUT'
      ? gw.app.inject({ method, url: `/api/v1${url}`, headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {}, payload: opts.payload as object })
      : base(method, url, opts)
  const admin = await gw.user('admin')
  const operator = await gw.user('operator')
  const customer = await gw.user('customer')
  const pkg = await create(admin.token)
  const ingest = (key: string | undefined, app = gw.app) =>
    app.inject({ method: 'POST', url: '/api/v1/locations', headers: key === undefined ? {} : { 'x-api-key': key }, payload: point() })

  t.test('a key is shown once, works, is never listed, and dies with its device', async (t) => {
    const created = await call('POST', '/devices', { token: admin.token, payload: { name: '  Van 7 tracker ', trackingNumber: pkg.trackingNumber.toLowerCase() } })
    t.equal(created.statusCode, 201, created.body)
    t.equal(created.headers['cache-control'], 'no-store', 'no cache keeps the key')
    const { device, apiKey } = created.json()
    t.match(apiKey, /^dtk_[a-z2-7]{8}_[A-Za-z0-9_-]{43}$/, 'dtk_<prefix>_<secret>')
    t.match(device, { id: String, name: 'Van 7 tracker', trackingNumber: pkg.trackingNumber, createdAt: String, lastSeenAt: null })
    t.same(Object.keys(device).sort(), ['createdAt', 'id', 'lastSeenAt', 'name', 'trackingNumber'])

    const { rows } = await gw.pool.query<{ key_hash: Buffer; key_prefix: string }>('SELECT key_hash, key_prefix FROM devices WHERE id = $1', [device.id])
    t.equal(rows[0]!.key_hash.length, 32, 'a sha256 is stored')
    t.notOk(rows[0]!.key_hash.toString('utf8').includes(apiKey.slice(13)), 'the secret itself is not')
    t.equal(rows[0]!.key_prefix, apiKey.slice(4, 12))

    const ok = await ingest(apiKey)
    t.equal(ok.statusCode, 202, ok.body)
    t.same(ok.json(), { accepted: 1, duplicates: 0 })

    for (const token of [admin.token, operator.token]) {
      const list = await call('GET', '/devices', { token })
      t.equal(list.statusCode, 200)
      t.notOk(list.body.includes(apiKey.slice(13)) || list.body.includes('apiKey'), 'the list never shows the key')
      const listed = list.json().items.find((d: { id: string }) => d.id === device.id)
      t.ok(listed, 'the device is listed')
      t.type(listed.lastSeenAt, 'string', 'lastSeenAt is set by the ingest')
    }

    // A second gateway on the same data has served this key before the revocation.
    const other = await testGateway(t, {}, { shared: gw })
    t.equal((await ingest(apiKey, other.app)).statusCode, 202)
    const del = await call('DELETE', `/devices/${device.id}`, { token: admin.token })
    t.equal(del.statusCode, 204)
    for (const [name, app] of [['this gateway', gw.app], ['another gateway', other.app]] as const) {
      const refused = await ingest(apiKey, app)
      t.match(refused.json(), errorBody(401, 'unauthorized'), `revoked: 401 at once on ${name}`)
    }
    t.notOk((await call('GET', '/devices', { token: admin.token })).json().items.some((d: { id: string }) => d.id === device.id), 'no longer listed')
    t.match((await call('DELETE', `/devices/${device.id}`, { token: admin.token })).json(), errorBody(404, 'not_found'), 'deleting twice is 404')
  })

  t.test('missing, malformed, unknown and tampered keys are 401', async (t) => {
    const { apiKey } = await gw.devices.create({ name: 'real', trackingNumber: pkg.trackingNumber })
    const tampered = apiKey.slice(0, -1) + (apiKey.endsWith('A') ? 'B' : 'A')
    const unknownPrefix = `dtk_aaaaaaaa_${apiKey.slice(13)}`
    for (const [what, key] of [['missing', undefined], ['empty', ''], ['malformed', 'hello'], ['tampered secret', tampered], ['unknown prefix', unknownPrefix]] as const) {
      const res = await ingest(key)
      t.equal(res.statusCode, 401, what)
      t.match(res.json(), errorBody(401, 'unauthorized'))
    }
    const bearerOnly = await call('POST', '/locations', { token: admin.token, payload: point() })
    t.equal(bearerOnly.statusCode, 401, 'a user token is no device key')
  })

  t.test('binding, listing and roles', async (t) => {
    const { device, apiKey } = await gw.devices.create({ name: 'spare' })
    t.equal(device.trackingNumber, null)
    const unbound = await ingest(apiKey)
    t.match(unbound.json(), errorBody(409, 'conflict'), 'an unbound device cannot post')
    t.match(unbound.json().message, /not bound to a package/)

    const bound = await call('PUT', `/devices/${device.id}/package`, { token: admin.token, payload: { trackingNumber: pkg.trackingNumber } })
    t.equal(bound.statusCode, 200, bound.body)
    t.equal(bound.json().trackingNumber, pkg.trackingNumber)
    t.equal((await ingest(apiKey)).statusCode, 202, 'bound: accepted at once')
    const cleared = await call('PUT', `/devices/${device.id}/package`, { token: admin.token, payload: { trackingNumber: null } })
    t.equal(cleared.json().trackingNumber, null, 'null unbinds')

    t.match((await call('PUT', `/devices/${device.id}/package`, { token: admin.token, payload: { trackingNumber: 'NOSUCHPKG123' } })).json(), errorBody(404, 'not_found'))
    t.match((await call('PUT', '/devices/00000000-0000-4000-8000-000000000000/package', { token: admin.token, payload: { trackingNumber: pkg.trackingNumber } })).json(), errorBody(404, 'not_found'))
    t.match((await call('POST', '/devices', { token: admin.token, payload: { name: 'x', trackingNumber: 'NOSUCHPKG123' } })).json(), errorBody(404, 'not_found'))
    const badId = await call('DELETE', '/devices/not-a-uuid', { token: admin.token })
    t.match(badId.json(), { statusCode: 400, code: 'validation_failed', details: [{ path: '/params/id' }] })
    const blank = await call('POST', '/devices', { token: admin.token, payload: { name: '   ' } })
    t.match(blank.json(), { statusCode: 400, code: 'validation_failed', details: [{ path: '/name' }] })

    // Deleting the bound package leaves the device unbound.
    const doomed = await create(admin.token)
    const { apiKey: orphanKey } = await gw.devices.create({ name: 'orphan', trackingNumber: doomed.trackingNumber })
    t.equal((await call('DELETE', `/packages/${doomed.trackingNumber}`, { token: admin.token })).statusCode, 204)
    t.equal((await ingest(orphanKey)).statusCode, 409, 'the package is gone: 409')

    const refused: Array<[string, Method, string, unknown?]> = [
      [operator.token, 'POST', '/devices', { name: 'x' }],
      [operator.token, 'PUT', `/devices/${device.id}/package`, { trackingNumber: null }],
      [operator.token, 'DELETE', `/devices/${device.id}`],
      [customer.token, 'GET', '/devices'],
      [customer.token, 'POST', '/devices', { name: 'x' }],
    ]
    for (const [token, method, path, payload] of refused) {
      t.match((await call(method, path, { token, payload })).json(), errorBody(403, 'forbidden'), `${method} ${path}`)
    }
    t.match((await call('GET', '/devices')).json(), errorBody(401, 'unauthorized'), 'no token: 401')
  })

  t.test('the list pages with a cursor', async (t) => {
    for (let i = 0; i < 3; i++) await gw.devices.create({ name: `page ${i}` })
    const first = (await call('GET', '/devices?limit=2', { token: admin.token })).json()
    t.equal(first.items.length, 2)
    t.type(first.nextCursor, 'string')
    const second = (await call('GET', `/devices?limit=2&cursor=${first.nextCursor}`, { token: admin.token })).json()
    t.notOk(second.items.some((d: { id: string }) => first.items.some((f: { id: string }) => f.id === d.id)), 'no repeats')
    t.match((await call('GET', '/devices?cursor=garbage', { token: admin.token })).json(), errorBody(400, 'validation_failed'))
  })
})
