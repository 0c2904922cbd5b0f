import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { api, errorBody, type Method } from './fixtures.test.js'

t.test('package routes by role', async (t) => {
  const gw = await testGateway(t)
  const { call, create, status, patch, get, assign } = api(gw)
  const admin = await gw.user('admin')
  const operator = await gw.user('operator')
  const customer = await gw.user('customer')
  const driver = await gw.user('driver')
  const otherDriver = await gw.user('driver')
  const service = await gw.serviceToken()
  const pkg = await create(admin.token, { description: 'role matrix' })
  const tn = pkg.trackingNumber

  t.test('no token is 401 unauthorized on every route', async (t) => {
    const routes: Array<[Method, string, unknown?]> = [
      ['POST', '/packages', { sender: { name: 'a' }, recipient: { name: 'b' } }],
      ['GET', '/packages'],
      ['GET', `/packages/${tn}`],
      ['PATCH', `/packages/${tn}`, { description: 'x' }],
      ['DELETE', `/packages/${tn}`],
      ['POST', `/packages/${tn}/status`, { status: 'in_transit' }],
      ['GET', `/packages/${tn}/events`],
      ['POST', '/me/trackings', { trackingNumber: tn }],
      ['GET', '/me/trackings'],
      ['DELETE', `/me/trackings/${tn}`],
    ]
    for (const [method, path, payload] of routes) {
      const res = await call(method, path, { payload })
      t.equal(res.statusCode, 401, `${method} ${path}`)
      t.match(res.json(), errorBody(401, 'unauthorized'))
    }
    const forged = await call('GET', `/packages/${tn}`, { token: 'not.a.jwt' })
    t.equal(forged.statusCode, 401, 'a malformed token is 401 too')
    t.equal(forged.json().code, 'unauthorized')
    const unchanged = await get(admin.token, tn)
    t.equal(unchanged.version, 1, 'nothing was changed by the refused requests')
  })

  t.test('roles a route does not allow get 403 forbidden', async (t) => {
    const refused: Array<[string, Method, string, unknown?]> = [
      ['operator', 'POST', '/packages', { sender: { name: 'a' }, recipient: { name: 'b' } }],
      ['driver', 'POST', '/packages', { sender: { name: 'a' }, recipient: { name: 'b' } }],
      ['operator', 'PATCH', `/packages/${tn}`, { description: 'x' }],
      ['service', 'PATCH', `/packages/${tn}`, { description: 'x' }],
      ['customer', 'PATCH', `/packages/${tn}`, { description: 'x' }],
      ['driver', 'PATCH', `/packages/${tn}`, { description: 'x' }],
      ['operator', 'DELETE', `/packages/${tn}`],
      ['service', 'DELETE', `/packages/${tn}`],
      ['customer', 'DELETE', `/packages/${tn}`],
      ['driver', 'DELETE', `/packages/${tn}`],
      ['customer', 'POST', `/packages/${tn}/status`, { status: 'in_transit' }],
      ['service', 'POST', '/me/trackings', { trackingNumber: tn }],
      ['service', 'GET', '/me/trackings'],
      ['service', 'DELETE', `/me/trackings/${tn}`],
    ]
    const tokens: Record<string, string> = { operator: operator.token, customer: customer.token, driver: driver.token, service }
    for (const [role, method, path, payload] of refused) {
      const res = await call(method, path, { token: tokens[role], payload })
      t.equal(res.statusCode, 403, `${role} ${method} ${path}`)
      t.match(res.json(), errorBody(403, 'forbidden'))
    }
    const unchanged = await get(admin.token, tn)
    t.equal(unchanged.version, 1, 'nothing was changed by the refused requests')
    t.equal(unchanged.description, 'role matrix')
  })

  t.test('admin, operator and service read every package', async (t) => {
    for (const [role, token] of [['admin', admin.token], ['operator', operator.token], ['service', service]] as const) {
      const one = await call('GET', `/packages/${tn}`, { token })
      t.equal(one.statusCode, 200, `${role} GET package`)
      t.equal(one.json().id, pkg.id)
      const events = await call('GET', `/packages/${tn}/events`, { token })
      t.equal(events.statusCode, 200, `${role} GET events`)
      const list = await call('GET', '/packages', { token })
      t.equal(list.statusCode, 200, `${role} GET list`)
      t.ok(list.json().items.some((p: { id: string }) => p.id === pkg.id), `${role} lists it`)
    }
  })

  t.test('a customer sees what they own in full; a number they merely track in its public view', async (t) => {
    const owned = await create(admin.token, { customerId: customer.id, recipient: { name: 'Carla Customer', address: '1 Own Street', phone: '+100' } })
    const stranger = await create(admin.token, { recipient: { name: 'Sam Stranger', address: '9 Secret Road', email: 'sam@example.com', phone: '+199' } })
    t.equal(owned.customerId, customer.id, 'the owner is recorded')

    const own = await get(customer.token, owned.trackingNumber)
    t.match(own, { view: 'full', id: owned.id, recipient: { name: 'Carla Customer' }, customerId: customer.id }, 'the owner: full package, no tracking needed')
    t.equal((await call('GET', `/packages/${owned.trackingNumber}/events`, { token: customer.token })).statusCode, 200, 'and its events')
    const list = (await call('GET', '/packages', { token: customer.token })).json()
    t.same(list.items.map((p: { id: string }) => p.id), [owned.id], 'the list holds what they own')

    for (const path of [`/packages/${stranger.trackingNumber}`, `/packages/${stranger.trackingNumber}/events`]) {
      const res = await call('GET', path, { token: customer.token })
      t.match([res.statusCode, res.json()], [404, errorBody(404, 'not_found')], `GET ${path} before tracking`)
    }
    const missing = await call('GET', '/packages/NOSUCHPKG123', { token: customer.token })
    t.same([missing.statusCode, missing.json().code], [404, 'not_found'], 'an unknown number looks exactly the same')

    const added = await call('POST', '/me/trackings', { token: customer.token, payload: { trackingNumber: stranger.trackingNumber } })
    t.equal(added.statusCode, 201)
    const seen = await call('GET', `/packages/${stranger.trackingNumber}`, { token: customer.token })
    t.equal(seen.statusCode, 200, 'readable once tracked')
    t.same(Object.keys(seen.json()).sort(), ['carrier', 'estimatedDelivery', 'events', 'lastUpdatedAt', 'status', 'trackingNumber', 'view'], 'in the public view only')
    t.equal(seen.json().view, 'public')
    for (const res of [seen, added]) t.notMatch(res.body, /Sam Stranger|Secret Road|sam@example|\+199|Sender Shop/, 'no names, addresses or contacts')
    t.equal((await call('GET', `/packages/${stranger.trackingNumber}/events`, { token: customer.token })).statusCode, 404, 'the full event log stays hidden')
    t.same((await call('GET', '/packages', { token: customer.token })).json().items.map((p: { id: string }) => p.id), [owned.id], 'tracked numbers are not in /packages')

    const other = await gw.user('customer')
    t.equal((await call('GET', `/packages/${owned.trackingNumber}`, { token: other.token })).statusCode, 404, 'another customer still gets 404')

    t.equal((await call('DELETE', `/me/trackings/${stranger.trackingNumber}`, { token: customer.token })).statusCode, 204)
    t.equal((await call('GET', `/packages/${stranger.trackingNumber}`, { token: customer.token })).statusCode, 404, '404 again after untracking')
  })

  t.test('ownership is set explicitly, to a customer account', async (t) => {
    const viaService = await call('POST', '/packages', { token: service, payload: { sender: { name: 'Shop' }, recipient: { name: 'R', email: customer.email }, customerId: customer.id } })
    t.equal(viaService.statusCode, 201, 'a service names the owner')
    t.equal(viaService.json().customerId, customer.id)
    const byEmail = await create(admin.token, { recipient: { name: 'R', email: customer.email } })
    t.notOk('customerId' in byEmail, "a matching recipient email does not make the customer its owner")
    t.equal((await call('GET', `/packages/${byEmail.trackingNumber}`, { token: customer.token })).statusCode, 404)
    for (const customerId of [driver.id, operator.id, '00000000-0000-4000-8000-000000000000']) {
      const res = await call('POST', '/packages', { token: admin.token, payload: { sender: { name: 'a' }, recipient: { name: 'b' }, customerId } })
      t.match([res.statusCode, res.json()], [400, { code: 'validation_failed', details: [{ path: '/customerId' }] }], `create with customerId of a non-customer`)
      const patched = await call('PATCH', `/packages/${byEmail.trackingNumber}`, { token: admin.token, payload: { customerId } })
      t.match([patched.statusCode, patched.json()], [400, { code: 'validation_failed', details: [{ path: '/customerId' }] }], 'patch too')
    }
    const given = await patch(admin.token, byEmail.trackingNumber, { customerId: customer.id })
    t.equal(given.customerId, customer.id, 'an admin hands it over')
    t.equal((await get(customer.token, byEmail.trackingNumber)).view, 'full', 'now the customer sees it in full')
    const events = (await call('GET', `/packages/${byEmail.trackingNumber}/events`, { token: admin.token })).json().items
    t.match(events.at(-1), { type: 'package.updated', data: { changes: { customerId: customer.id } } }, 'the event records the new owner')
    const created = (await call('GET', `/packages/${viaService.json().trackingNumber}/events`, { token: admin.token })).json().items[0]
    t.match(created, { type: 'package.created', data: { customerId: customer.id } }, 'so does the creation')
    await patch(admin.token, byEmail.trackingNumber, { customerId: null })
    t.equal((await call('GET', `/packages/${byEmail.trackingNumber}`, { token: customer.token })).statusCode, 404, 'taken away again')
  })

  t.test('a driver sees and updates only assigned packages', async (t) => {
    const assigned = await create(admin.token)
    const unassigned = await create(admin.token)
    for (const p of [assigned, unassigned]) {
      t.equal((await call('GET', `/packages/${p.trackingNumber}`, { token: driver.token })).statusCode, 404, 'not yet assigned')
    }
    await assign(admin.token, assigned.trackingNumber, driver.id)
    t.equal((await get(admin.token, assigned.trackingNumber)).driverId, driver.id)

    t.equal((await call('GET', `/packages/${assigned.trackingNumber}`, { token: driver.token })).statusCode, 200, 'assigned: readable')
    t.equal((await call('GET', `/packages/${assigned.trackingNumber}/events`, { token: driver.token })).statusCode, 200, 'assigned: events')
    const hidden = await call('GET', `/packages/${unassigned.trackingNumber}`, { token: driver.token })
    t.match(hidden.json(), errorBody(404, 'not_found'), 'unassigned: 404 not 403')
    t.equal((await call('GET', `/packages/${unassigned.trackingNumber}/events`, { token: driver.token })).statusCode, 404)
    t.equal((await call('GET', `/packages/${assigned.trackingNumber}`, { token: otherDriver.token })).statusCode, 404, 'another driver: 404')
    const tracked = await call('POST', '/me/trackings', { token: otherDriver.token, payload: { trackingNumber: assigned.trackingNumber } })
    t.equal(tracked.statusCode, 201, 'another driver may put it on a list')
    t.equal(tracked.json().package.view, 'public', 'but gets the public view there (F2)')
    t.notMatch(tracked.body, /Ann Recipient|Sender Shop/, 'no names')
    t.equal((await call('GET', `/packages/${assigned.trackingNumber}`, { token: otherDriver.token })).json().view, 'public', 'and on GET')
    t.equal((await call('GET', `/packages/${assigned.trackingNumber}/events`, { token: otherDriver.token })).statusCode, 404, 'no event log')
    t.equal((await call('POST', `/packages/${assigned.trackingNumber}/status`, { token: otherDriver.token, payload: { status: 'in_transit' } })).statusCode, 404, 'nor updates')
    t.equal((await get(driver.token, assigned.trackingNumber)).view, 'full', 'the assigned driver: full')

    const list = (await call('GET', '/packages', { token: driver.token })).json()
    t.same(list.items.map((p: { id: string }) => p.id), [assigned.id], 'the list holds assigned packages only')

    const moved = await status(driver.token, assigned.trackingNumber, { status: 'in_transit', note: 'picked up' })
    t.equal(moved.status, 'in_transit', 'a driver moves an assigned package')
    const refused = await call('POST', `/packages/${unassigned.trackingNumber}/status`, { token: driver.token, payload: { status: 'in_transit' } })
    t.match(refused.json(), errorBody(404, 'not_found'), 'and gets 404 for an unassigned one')
    t.equal((await get(admin.token, unassigned.trackingNumber)).status, 'pending', 'which stays unchanged')
    const other = await call('POST', `/packages/${assigned.trackingNumber}/status`, { token: otherDriver.token, payload: { status: 'out_for_delivery' } })
    t.equal(other.statusCode, 404, 'another driver cannot update it')

    t.equal((await call('POST', `/packages/${assigned.trackingNumber}/assignment/decline`, { token: driver.token })).statusCode, 200)
    t.equal((await call('GET', `/packages/${assigned.trackingNumber}`, { token: driver.token })).statusCode, 404, 'unassigned again: 404')
    t.equal((await call('POST', `/packages/${assigned.trackingNumber}/status`, { token: driver.token, payload: { status: 'out_for_delivery' } })).statusCode, 404)
  })

  t.test('only drivers can be assigned', async (t) => {
    for (const driverId of [customer.id, operator.id, '00000000-0000-4000-8000-000000000000']) {
      const res = await call('POST', `/packages/${tn}/assignment`, { token: admin.token, payload: { driverId } })
      t.equal(res.statusCode, 400, `driverId ${driverId}`)
      t.match(res.json(), { code: 'validation_failed', details: [{ path: '/driverId' }] })
    }
  })

  t.test('service and operator post status updates; service creates packages', async (t) => {
    const created = await call('POST', '/packages', { token: service, payload: { sender: { name: 'Integration' }, recipient: { name: 'Bob' } } })
    t.equal(created.statusCode, 201, 'service creates')
    const svcTn = created.json().trackingNumber
    t.equal((await status(service, svcTn, 'info_received')).status, 'info_received', 'service posts a status')
    t.equal((await status(operator.token, svcTn, 'in_transit')).status, 'in_transit', 'operator posts a status')
    t.equal((await status(admin.token, svcTn, 'out_for_delivery')).status, 'out_for_delivery', 'admin posts a status')
  })

  t.test('only admins force a transition', async (t) => {
    for (const [role, token] of [['operator', operator.token], ['service', service]] as const) {
      const res = await call('POST', `/packages/${tn}/status`, { token, payload: { status: 'delivered', force: true } })
      t.equal(res.statusCode, 403, role)
      t.match(res.json(), errorBody(403, 'forbidden'))
    }
    const assigned = await create(admin.token, { driverId: driver.id })
    const res = await call('POST', `/packages/${assigned.trackingNumber}/status`, { token: driver.token, payload: { status: 'delivered', force: true } })
    t.equal(res.statusCode, 403, 'assigned driver')
    t.equal((await get(admin.token, tn)).status, 'pending')
  })
})
