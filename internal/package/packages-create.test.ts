import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { isGeneratedTrackingNumber } from './domain.js'
import { api, errorBody, type EventJson } from './fixtures.test.js'

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

t.test('creating packages', async (t) => {
  const gw = await testGateway(t)
  const { call, create, get } = api(gw)
  const admin = await gw.user('admin')
  const post = (payload: unknown, headers?: Record<string, string>) => call('POST', '/packages', { token: admin.token, payload, headers })

  t.test('201 with a generated number, status pending, version 1', async (t) => {
    const res = await post({
      sender: { name: 'Shop', address: '1 Market St' },
      recipient: { name: 'Ann', email: 'ann@example.com', phone: '+49 30 1234' },
      description: 'Books',
      weightGrams: 1200,
      origin: { lat: 52.5, lng: 13.4 },
      destination: { lat: 48.1, lng: 11.6, address: 'Munich' },
      estimatedDelivery: '2030-01-02T03:04:05.000Z',
    })
    t.equal(res.statusCode, 201, res.body)
    t.match(res.headers['content-type'], /^application\/json/)
    const pkg = res.json()
    t.match(pkg, {
      id: /^[0-9a-f-]{36}$/,
      trackingNumber: /^DT[A-Z2-7]{11}$/,
      status: 'pending',
      carrier: 'delivertrack',
      version: 1,
      description: 'Books',
      weightGrams: 1200,
      sender: { name: 'Shop', address: '1 Market St' },
      recipient: { name: 'Ann', email: 'ann@example.com', phone: '+49 30 1234' },
      origin: { lat: 52.5, lng: 13.4 },
      destination: { lat: 48.1, lng: 11.6, address: 'Munich' },
      estimatedDelivery: '2030-01-02T03:04:05.000Z',
      createdAt: ISO,
      updatedAt: ISO,
    })
    t.ok(isGeneratedTrackingNumber(pkg.trackingNumber), 'the check character is valid')
    t.notOk('seq' in pkg, 'the internal seq counter is not part of the Package')
    const again = await get(admin.token, pkg.trackingNumber.toLowerCase())
    t.same(again, pkg, 'GET (any case) returns the same package')
  })

  t.test('a given number is trimmed and upper-cased', async (t) => {
    const pkg = await create(admin.token, { trackingNumber: '  ab12cd34ef  ', carrier: ' ups ' })
    t.equal(pkg.trackingNumber, 'AB12CD34EF')
    t.equal(pkg.carrier, 'ups', 'the carrier is trimmed too')
    t.equal((await get(admin.token, ' ab12cd34ef ')).id, pkg.id)
  })

  t.test('a duplicate number is 409 conflict', async (t) => {
    await create(admin.token, { trackingNumber: 'DUP12345678' })
    for (const tn of ['DUP12345678', ' dup12345678 ']) {
      const res = await post({ trackingNumber: tn, sender: { name: 'a' }, recipient: { name: 'b' } })
      t.equal(res.statusCode, 409, JSON.stringify(tn))
      t.match(res.json(), errorBody(409, 'conflict'))
    }
  })

  t.test('concurrent creates of one number: exactly one wins', async (t) => {
    const results = await Promise.all(Array.from({ length: 6 }, () => post({ trackingNumber: 'RACE0000CREATE', sender: { name: 'racer' }, recipient: { name: 'b' } })))
    t.same(results.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409, 409])
    const { rows } = await gw.pool.query(`SELECT 1 FROM packages WHERE tracking_number = 'RACE0000CREATE'`)
    t.equal(rows.length, 1, 'one row')
  })

  t.test('an invalid number is 400 validation_failed naming /trackingNumber', async (t) => {
    for (const tn of ['short', 'has-dash-123', 'with space 123', 'A'.repeat(31), 'ÄÖÜ12345678']) {
      const res = await post({ trackingNumber: tn, sender: { name: 'a' }, recipient: { name: 'b' } })
      t.equal(res.statusCode, 400, JSON.stringify(tn))
      t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/trackingNumber', message: String }] })
    }
  })

  t.test('schema violations list every bad field with its path', async (t) => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['origin.lat 91', { origin: { lat: 91, lng: 0 } }, '/origin/lat'],
      ['origin.lat -90.5', { origin: { lat: -90.5, lng: 0 } }, '/origin/lat'],
      ['destination.lng 181', { destination: { lat: 0, lng: 181 } }, '/destination/lng'],
      ['weightGrams 0', { weightGrams: 0 }, '/weightGrams'],
      ['recipient email', { recipient: { name: 'b', email: 'not-an-email' } }, '/recipient/email'],
      ['empty sender name', { sender: { name: '' } }, '/sender/name'],
      ['estimatedDelivery', { estimatedDelivery: 'tomorrow' }, '/estimatedDelivery'],
      ['driverId not a uuid', { driverId: 'nope' }, '/driverId'],
    ]
    for (const [what, override, path] of cases) {
      const res = await post({ sender: { name: 'a' }, recipient: { name: 'b' }, ...override })
      t.equal(res.statusCode, 400, what)
      const body = res.json()
      t.match(body, errorBody(400, 'validation_failed'), what)
      t.ok(body.details.some((d: { path: string }) => d.path === path), `${what}: details name ${path} (${JSON.stringify(body.details)})`)
    }
    const missing = (await post({ sender: { name: 'a' } })).json()
    t.ok(missing.details.some((d: { path: string }) => d.path === '/recipient'), 'a missing field is named')
    const both = (await post({ sender: { name: 'a' }, recipient: { name: 'b' }, origin: { lat: 91, lng: 200 } })).json()
    t.ok(['/origin/lat', '/origin/lng'].every((p) => both.details.some((d: { path: string }) => d.path === p)), 'all errors are reported')
    const list = (await call('GET', '/packages?limit=200', { token: admin.token })).json()
    t.notOk(list.items.some((p: { sender: { name: string } }) => p.sender.name === 'a'), 'nothing invalid was stored')
  })

  t.test('assigning a driver at creation', async (t) => {
    const driver = await gw.user('driver')
    const pkg = await create(admin.token, { driverId: driver.id })
    t.equal(pkg.driverId, driver.id)
    const log = (await call('GET', `/packages/${pkg.trackingNumber}/events`, { token: admin.token })).json().items
    t.same(log.map((e: { seq: number; type: string }) => [e.seq, e.type]), [[1, 'package.created'], [2, 'package.assigned']], 'created, then offered')
    const offers = (await call('GET', `/packages/${pkg.trackingNumber}/assignments`, { token: admin.token })).json().items
    t.match(offers, [{ driverId: driver.id, state: 'offered', assignedBy: admin.id }], 'an offered assignment, as POST /assignment makes')
    t.same(log[1].data, { assignmentId: offers[0].id, driverId: driver.id, assignedBy: admin.id })
    t.equal((await call('POST', `/packages/${pkg.trackingNumber}/assignment/accept`, { token: driver.token })).statusCode, 200, 'the driver may accept it')
    const service = await gw.serviceToken()
    const byService = await create(service, { driverId: driver.id })
    t.match((await call('GET', `/packages/${byService.trackingNumber}/assignments`, { token: admin.token })).json().items, [{ state: 'offered' }], 'a service client offers too')
    const customer = await gw.user('customer')
    const byCustomer = await call('POST', '/packages', { token: customer.token, payload: { sender: { name: 'a' }, recipient: { name: 'b' }, driverId: driver.id } })
    t.match(byCustomer.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/driverId' }] }, 'a customer cannot name the driver of an order')
    const res = await post({ sender: { name: 'a' }, recipient: { name: 'b' }, driverId: customer.id })
    t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/driverId' }] }, 'a non-driver is refused')
  })

  t.test('Idempotency-Key replays the first creation', async (t) => {
    const body = { sender: { name: 'Idem' }, recipient: { name: 'Potent' } }
    const first = await post(body, { 'idempotency-key': 'create-once' })
    t.equal(first.statusCode, 201)
    const replay = await post(body, { 'idempotency-key': 'create-once' })
    t.equal(replay.statusCode, 201)
    t.equal(replay.headers['idempotent-replay'], 'true')
    t.equal(replay.json().trackingNumber, first.json().trackingNumber, 'the same package, not a second one')
    const reused = await post({ ...body, description: 'different' }, { 'idempotency-key': 'create-once' })
    t.match(reused.json(), errorBody(422, 'idempotency_key_reused'))
  })
})

t.test('details, events and deletion', async (t) => {
  const gw = await testGateway(t)
  const { call, create, status, patch, events, get, assign } = api(gw)
  const admin = await gw.user('admin')
  const driver = await gw.user('driver')

  t.test('the event log: envelope, seq 1, 2, 3 ... and the event per change', async (t) => {
    const pkg = await create(admin.token, { trackingNumber: 'EVENTS0001', description: 'first' })
    const tn = pkg.trackingNumber
    const updated = await patch(admin.token, tn, { description: 'second', weightGrams: 500 })
    t.equal(updated.version, 2)
    t.equal(updated.description, 'second')
    const offer = await assign(admin.token, tn, driver.id)
    t.equal((await get(admin.token, tn)).version, 3)
    await status(admin.token, tn, { status: 'in_transit', note: 'left the depot', location: { lat: 52.5, lng: 13.4, city: 'Berlin' } })
    await status(admin.token, tn, { status: 'out_for_delivery' })
    t.equal((await call('POST', `/packages/${tn}/assignment/decline`, { token: driver.token })).statusCode, 200)
    const both = await patch(admin.token, tn, { description: null })
    t.notOk('description' in both, 'description cleared')
    t.notOk('driverId' in both, 'driver unassigned')
    const noop = await patch(admin.token, tn, { weightGrams: 500 })
    t.equal(noop.version, both.version, 'a patch that changes nothing is not a new version')

    const items = await events(admin.token, tn)
    t.same(items.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7], 'ordered by seq, no gaps')
    t.same(items.map((e) => e.type), [
      'package.created',
      'package.updated',
      'package.assigned',
      'package.status_changed',
      'package.status_changed',
      'package.assignment_declined',
      'package.updated',
    ])
    for (const e of items) {
      t.same(Object.keys(e).sort(), ['actor', 'data', 'id', 'occurredAt', 'recordedAt', 'requestId', 'seq', 'trackingNumber', 'type'], `envelope of seq ${e.seq}`)
      t.match(e, { id: /^[0-9a-f-]{36}$/, trackingNumber: tn, occurredAt: ISO, recordedAt: ISO })
    }
    t.equal(new Set(items.map((e) => e.id)).size, items.length, 'event ids are unique')
    const [created, upd, asg, moved, out, unassigned, cleared] = items as [EventJson, EventJson, EventJson, EventJson, EventJson, EventJson, EventJson]
    t.match(created.data, { status: 'pending', carrier: 'delivertrack' })
    t.same(upd.data, { changes: { description: 'second', weightGrams: 500 } })
    t.same(asg.data, { assignmentId: offer.id, driverId: driver.id, assignedBy: admin.id })
    t.same(moved.data, { status: 'in_transit', previousStatus: 'pending', note: 'left the depot', location: { lat: 52.5, lng: 13.4, city: 'Berlin' } })
    t.same(out.data, { status: 'out_for_delivery', previousStatus: 'in_transit' })
    t.same(cleared.data, { changes: { description: null } })
    t.same(unassigned.data, { assignmentId: offer.id, driverId: driver.id })
  })

  t.test('PATCH validates and honours If-Match', async (t) => {
    const pkg = await create(admin.token)
    const empty = await call('PATCH', `/packages/${pkg.trackingNumber}`, { token: admin.token, payload: {} })
    t.match(empty.json(), errorBody(400, 'validation_failed'), 'an empty patch is refused')
    const bad = await call('PATCH', `/packages/${pkg.trackingNumber}`, { token: admin.token, payload: { destination: { lat: 0, lng: -181 } } })
    t.match(bad.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/destination/lng' }] })
    const stale = await call('PATCH', `/packages/${pkg.trackingNumber}`, { token: admin.token, payload: { description: 'x' }, headers: { 'if-match': '"7"' } })
    t.match(stale.json(), errorBody(412, 'version_mismatch'))
    const ok = await call('PATCH', `/packages/${pkg.trackingNumber}`, { token: admin.token, payload: { description: 'x' }, headers: { 'if-match': '"1"' } })
    t.equal(ok.statusCode, 200)
    t.equal(ok.json().version, 2)
    const unknown = await call('PATCH', '/packages/NOSUCHPKG123', { token: admin.token, payload: { description: 'x' } })
    t.match(unknown.json(), errorBody(404, 'not_found'))
  })

  t.test('DELETE is 204, then the package is gone and its number free again', async (t) => {
    const pkg = await create(admin.token, { trackingNumber: 'DELETEME01' })
    await status(admin.token, pkg.trackingNumber, 'in_transit')
    await get(admin.token, pkg.trackingNumber) // warm the cache
    const del = await call('DELETE', `/packages/${pkg.trackingNumber}`, { token: admin.token })
    t.equal(del.statusCode, 204)
    t.equal(del.body, '')
    for (const path of ['/packages/DELETEME01', '/packages/DELETEME01/events']) {
      const res = await call('GET', path, { token: admin.token })
      t.match(res.json(), errorBody(404, 'not_found'), `GET ${path}`)
    }
    t.equal((await call('POST', '/packages/DELETEME01/status', { token: admin.token, payload: { status: 'returned' } })).statusCode, 404, 'no status updates')
    t.equal((await call('DELETE', '/packages/DELETEME01', { token: admin.token })).statusCode, 404, 'deleting twice is 404')
    t.equal((await call('GET', '/track/DELETEME01')).statusCode, 404, 'gone from public tracking too')
    const list = (await call('GET', '/packages?q=DELETEME01', { token: admin.token })).json()
    t.same(list.items, [], 'not listed')

    const again = await create(admin.token, { trackingNumber: 'deleteme01' })
    t.not(again.id, pkg.id, 'a new package')
    t.match(again, { trackingNumber: 'DELETEME01', status: 'pending', version: 1 })
    t.same((await events(admin.token, 'DELETEME01')).map((e) => [e.seq, e.type]), [[1, 'package.created']], 'with a fresh event log')
    const { rows } = await gw.pool.query<{ type: string }>('SELECT type FROM package_events WHERE package_id = $1 ORDER BY seq', [pkg.id])
    t.same(rows.map((r) => r.type), ['package.created', 'package.status_changed', 'package.deleted'], 'the old history is kept, ending in package.deleted')
  })

  t.test('DELETE honours If-Match', async (t) => {
    const pkg = await create(admin.token)
    const stale = await call('DELETE', `/packages/${pkg.trackingNumber}`, { token: admin.token, headers: { 'if-match': '"0"' } })
    t.match(stale.json(), errorBody(412, 'version_mismatch'))
    t.equal((await get(admin.token, pkg.trackingNumber)).id, pkg.id, 'still there')
    const ok = await call('DELETE', `/packages/${pkg.trackingNumber}`, { token: admin.token, headers: { 'if-match': '1' } })
    t.equal(ok.statusCode, 204)
  })
})
