import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { api, errorBody } from './fixtures.test.js'

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

t.test('customer tracking lists', async (t) => {
  const gw = await testGateway(t)
  const { call, create, get } = api(gw)
  const admin = await gw.user('admin')
  const customer = await gw.user('customer')
  const add = (payload: Record<string, unknown>, token = customer.token) => call('POST', '/me/trackings', { token, payload })
  const mine = async (token = customer.token) => {
    const res = await call('GET', '/me/trackings', { token })
    if (res.statusCode !== 200) throw new Error(`GET /me/trackings: ${res.statusCode} ${res.body}`)
    return res.json().items as Array<{ trackingNumber: string; label: string | null; addedAt: string; package: { view: string; id?: string; status: string } }>
  }

  t.test('adding an existing package: 201, then 200 with the same entry', async (t) => {
    const pkg = await create(admin.token, { trackingNumber: 'TRACKME001', customerId: customer.id })
    const first = await add({ trackingNumber: ' trackme001 ', label: '  Birthday gift  ' })
    t.equal(first.statusCode, 201, first.body)
    const entry = first.json()
    t.match(entry, { trackingNumber: 'TRACKME001', label: 'Birthday gift', addedAt: ISO, package: { view: 'full', id: pkg.id, status: 'pending', version: 1 } }, 'the owner gets the full package')
    t.same(Object.keys(entry).sort(), ['addedAt', 'label', 'package', 'trackingNumber'])
    const again = await add({ trackingNumber: 'TRACKME001', label: 'another label' })
    t.equal(again.statusCode, 200, 'already on the list')
    t.same(again.json(), entry, 'the same entry, label and addedAt unchanged')
    const unlabelled = await create(admin.token)
    const blank = await add({ trackingNumber: unlabelled.trackingNumber, label: '   ' })
    t.equal(blank.json().label, null, 'a blank label is no label')
  })

  t.test('unknown numbers: 404 without carrier, a pending external tracking with one', async (t) => {
    const unknown = await add({ trackingNumber: 'UNKNOWN0001' })
    t.equal(unknown.statusCode, 404)
    t.match(unknown.json(), errorBody(404, 'not_found'))
    const adminView = await call('GET', '/packages/UNKNOWN0001', { token: admin.token })
    t.equal(adminView.statusCode, 404, 'nothing was created')
    const blankCarrier = await add({ trackingNumber: 'UNKNOWN0001', carrier: '   ' })
    t.match(blankCarrier.json(), errorBody(404, 'not_found'), 'a blank carrier is no carrier')
    t.equal((await call('GET', '/packages/UNKNOWN0001', { token: admin.token })).statusCode, 404, 'still nothing created')

    const external = await add({ trackingNumber: '1z999aa10123456784', carrier: ' ups ', label: 'Shoes' })
    t.equal(external.statusCode, 201, external.body)
    const entry = external.json()
    t.match(entry, { trackingNumber: '1Z999AA10123456784', label: 'Shoes', addedAt: ISO, package: { view: 'public', trackingNumber: '1Z999AA10123456784', status: 'pending', carrier: 'ups' } })
    const pkg = await get(admin.token, '1Z999AA10123456784')
    const { rows } = await gw.pool.query<{ carrier: string; active: boolean; due: boolean }>('SELECT carrier, active, next_update_due <= now() AS due FROM carrier_trackings WHERE package_id = $1', [pkg.id])
    t.same(rows, [{ carrier: 'ups', active: true, due: true }], 'a carrier sync is due at once')
    t.equal(entry.lastCheckedAt, null, 'the carrier was not asked yet')
    t.match(pkg, { status: 'pending', carrier: 'ups', external: true }, 'the package exists for everyone')
    t.notOk('customerId' in pkg, 'nobody owns an external tracking, not even who registered it')
    t.equal((await call('GET', '/packages/1Z999AA10123456784', { token: customer.token })).json().view, 'public', 'the customer reads its public view')

    const other = await gw.user('customer')
    const second = await add({ trackingNumber: '1Z999AA10123456784', carrier: 'ups' }, other.token)
    t.equal(second.statusCode, 201, 'a second customer adding it with a carrier tracks the existing one')
    t.equal(second.json().package.trackingNumber, entry.package.trackingNumber)
    const { rows: syncs } = await gw.pool.query('SELECT 1 FROM carrier_trackings WHERE package_id = $1', [pkg.id])
    t.equal(syncs.length, 1, 'without a second sync request')
    const repeat = await add({ trackingNumber: '1Z999AA10123456784', carrier: 'ups' })
    t.equal(repeat.statusCode, 200, 'the first customer adding it again: 200')
  })

  t.test('invalid numbers are 400', async (t) => {
    for (const tn of ['abc', 'x-y-z-1-2-3', '']) {
      const res = await add({ trackingNumber: tn })
      t.equal(res.statusCode, 400, JSON.stringify(tn))
      t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/trackingNumber' }] })
    }
    t.equal((await add({})).statusCode, 400, 'trackingNumber is required')
  })

  t.test('concurrent adds of one unknown number make one package', async (t) => {
    const users = await Promise.all([gw.user('customer'), gw.user('customer'), gw.user('customer'), gw.user('customer')])
    const results = await Promise.all(users.map((u) => add({ trackingNumber: 'RACE00000001', carrier: 'dhl' }, u.token)))
    t.same(results.map((r) => r.statusCode), [201, 201, 201, 201], results.map((r) => r.body).join('\n'))
    t.ok(results.every((r) => r.json().package.trackingNumber === 'RACE00000001'))
    const { rows } = await gw.pool.query(`SELECT 1 FROM packages WHERE tracking_number = 'RACE00000001'`)
    t.equal(rows.length, 1)
    for (const u of users) t.same((await mine(u.token)).map((e) => e.trackingNumber), ['RACE00000001'], 'every customer tracks it')
  })

  t.test('list, delete, delete again', async (t) => {
    const me = await gw.user('customer')
    const a = await create(admin.token)
    const b = await create(admin.token)
    t.same(await mine(me.token), [], 'empty at first')
    t.equal((await add({ trackingNumber: a.trackingNumber, label: 'A' }, me.token)).statusCode, 201)
    t.equal((await add({ trackingNumber: b.trackingNumber }, me.token)).statusCode, 201)
    const items = await mine(me.token)
    t.same(items.map((e) => e.trackingNumber).sort(), [a.trackingNumber, b.trackingNumber].sort())
    t.match(items.find((e) => e.trackingNumber === a.trackingNumber), { label: 'A', addedAt: ISO, package: { view: 'public', trackingNumber: a.trackingNumber } })
    t.notOk((await mine()).some((e) => e.trackingNumber === a.trackingNumber), "another customer's list is separate")

    const del = await call('DELETE', `/me/trackings/${a.trackingNumber.toLowerCase()}`, { token: me.token })
    t.equal(del.statusCode, 204)
    t.equal(del.body, '')
    t.same((await mine(me.token)).map((e) => e.trackingNumber), [b.trackingNumber])
    const again = await call('DELETE', `/me/trackings/${a.trackingNumber}`, { token: me.token })
    t.match(again.json(), errorBody(404, 'not_found'), 'deleting again is 404')
    const never = await call('DELETE', '/me/trackings/NEVERTRACKED1', { token: me.token })
    t.match(never.json(), errorBody(404, 'not_found'), 'an unknown number is 404')
    t.equal((await get(admin.token, a.trackingNumber)).id, a.id, 'the package itself is untouched')

    await call('DELETE', `/packages/${b.trackingNumber}`, { token: admin.token })
    t.same(await mine(me.token), [], 'a deleted package leaves the list')
  })

  t.test('the entry reflects the current package', async (t) => {
    const me = await gw.user('customer')
    const pkg = await create(admin.token)
    await add({ trackingNumber: pkg.trackingNumber }, me.token)
    await call('POST', `/packages/${pkg.trackingNumber}/status`, { token: admin.token, payload: { status: 'in_transit' } })
    t.match((await mine(me.token))[0], { package: { status: 'in_transit', events: [{ status: 'pending' }, { status: 'in_transit' }] } })
  })

  t.test('staff and drivers have lists too', async (t) => {
    const pkg = await create(admin.token)
    for (const [role, view] of [['admin', 'full'], ['operator', 'full'], ['driver', 'public']] as const) {
      const user = await gw.user(role)
      t.equal((await add({ trackingNumber: pkg.trackingNumber }, user.token)).statusCode, 201, role)
      const items = await mine(user.token)
      t.same(items.map((e) => [e.trackingNumber, e.package.view]), [[pkg.trackingNumber, view]], `${role} lists it (${view} view)`)
    }
  })
})
