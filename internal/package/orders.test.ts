import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { api, errorBody, type PackageJson } from './fixtures.test.js'

// Customers placing orders (issue 20): ownership, refused fields, request
// fingerprinting (Redis and memory stores, and switched off), staff list filters.

const order = (description: string) => ({
  sender: { name: 'Ann Customer', address: '1 Home Street' },
  recipient: { name: 'Rita', address: '2 Far Road', email: 'rita@example.com', phone: '+49 30 1234' },
  deliveryOption: 'express',
  items: [{ description: 'Books', quantity: 2, sku: 'BK-1' }, { description: 'Lamp', quantity: 1, weightGrams: 900 }],
  description,
})

t.test('customers place orders', async (t) => {
  const gw = await testGateway(t)
  const { call, get, assign } = api(gw)
  const [ann, bob, admin, operator, driver] = await Promise.all([gw.user('customer'), gw.user('customer'), gw.user('admin'), gw.user('operator'), gw.user('driver')])
  const place = (token: string, payload: unknown, headers?: Record<string, string>) => call('POST', '/packages', { token, payload, headers })
  const count = async (description: string) => (await gw.pool.query('SELECT 1 FROM packages WHERE description = $1', [description])).rowCount

  t.test('201: a package the customer owns, with its items, pending payment', async (t) => {
    const res = await place(ann.token, order('first order'))
    t.equal(res.statusCode, 201, res.body)
    t.notOk(res.headers['idempotent-replay'])
    const pkg = res.json()
    t.match(pkg, {
      trackingNumber: /^DT[A-Z2-7]{11}$/,
      status: 'pending',
      carrier: 'delivertrack',
      customerId: ann.id,
      deliveryOption: 'express',
      paymentStatus: 'pending',
      items: [{ description: 'Books', quantity: 2, sku: 'BK-1' }, { description: 'Lamp', quantity: 1, weightGrams: 900 }],
      recipient: { name: 'Rita', address: '2 Far Road' },
    })
    t.match(await get(ann.token, pkg.trackingNumber), { view: 'full', customerId: ann.id, items: pkg.items }, 'the owner reads it in full')
    t.equal((await call('GET', `/packages/${pkg.trackingNumber}`, { token: bob.token })).statusCode, 404, 'another customer does not see it')
    const list = await call('GET', '/me/trackings', { token: ann.token })
    t.match(list.json().items, [{ trackingNumber: pkg.trackingNumber, package: { view: 'full', customerId: ann.id } }], 'it is on their tracking list')
  })

  t.test('fields only we set are 400 naming each', async (t) => {
    for (const [field, value] of [['trackingNumber', 'MYOWN12345'], ['driverId', driver.id], ['customerId', bob.id], ['carrier', 'ups'], ['customerEmail', 'x@example.com']] as const) {
      const res = await place(ann.token, { ...order(`refused ${field}`), [field]: value })
      t.equal(res.statusCode, 400, field)
      t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: `/${field}`, message: String }] }, field)
    }
    const both = await place(ann.token, { ...order('refused two'), trackingNumber: 'MYOWN12345', driverId: driver.id })
    t.same(both.json().details.map((d: { path: string }) => d.path), ['/trackingNumber', '/driverId'], 'every refused field is named')
    const paid = await place(ann.token, { ...order('refused paid'), paymentStatus: 'paid' })
    t.match(paid.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/paymentStatus' }] })
    const again = await place(ann.token, { ...order('refused paid'), paymentStatus: 'paid' })
    t.equal(again.statusCode, 400, 'a refusal is decided again, not replayed')
    t.notOk(again.headers['idempotent-replay'])
    t.equal(await count('refused paid'), 0)
  })

  t.test('the same body again within the window: the first order, 200, idempotent-replay', async (t) => {
    const first = await place(ann.token, order('repeat me'))
    t.equal(first.statusCode, 201)
    // Members in another order are the same body.
    const { items, description, ...rest } = order('repeat me')
    const second = await place(ann.token, { items, description, ...rest })
    t.equal(second.statusCode, 200, second.body)
    t.equal(second.headers['idempotent-replay'], 'true')
    t.same(second.json(), first.json())
    t.equal(await count('repeat me'), 1, 'one order')
    const other = await place(ann.token, { ...order('repeat me'), deliveryOption: 'same_day' })
    t.equal(other.statusCode, 201, 'a different body is a new order')
  })

  t.test('two customers with the same body get two orders', async (t) => {
    const [a, b] = await Promise.all([place(ann.token, order('same basket')), place(bob.token, order('same basket'))])
    t.same([a.statusCode, b.statusCode], [201, 201])
    t.not(a.json().trackingNumber, b.json().trackingNumber)
    t.same([a.json().customerId, b.json().customerId], [ann.id, bob.id])
  })

  t.test('a double click: concurrent identical bodies make one order, each click gets it', async (t) => {
    const clicks = await Promise.all([1, 2, 3].map(() => place(bob.token, order('double click'))))
    t.same(clicks.map((r) => r.statusCode).sort(), [200, 200, 201])
    t.equal(new Set(clicks.map((r) => r.json().trackingNumber)).size, 1, 'the same order for all')
    t.equal(await count('double click'), 1)
  })

  t.test('with an Idempotency-Key the key decides, not the body', async (t) => {
    const a = await place(ann.token, order('keyed'), { 'idempotency-key': 'k-1' })
    const b = await place(ann.token, order('keyed'), { 'idempotency-key': 'k-1' })
    const c = await place(ann.token, order('keyed'), { 'idempotency-key': 'k-2' })
    t.same([a.statusCode, b.statusCode, c.statusCode], [201, 201, 201])
    t.equal(b.headers['idempotent-replay'], 'true')
    t.equal(await count('keyed'), 2, 'a new key is a new order')
  })

  t.test('admins and services name the owner by customerId or customerEmail; no fingerprinting', async (t) => {
    const service = await gw.serviceToken()
    for (const token of [admin.token, service]) {
      const first = await place(token, { ...order('staff order'), customerEmail: ann.email.toUpperCase() })
      t.equal(first.statusCode, 201)
      t.match(first.json(), { customerId: ann.id, paymentStatus: 'not_required' })
    }
    t.equal(await count('staff order'), 2, 'a repeated body from staff is another package')
    const unknown = await place(admin.token, { ...order('x'), customerEmail: 'nobody@example.com' })
    t.match(unknown.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/customerEmail' }] })
    const twice = await place(admin.token, { ...order('x'), customerEmail: ann.email, customerId: ann.id })
    t.match(twice.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/customerEmail' }] })
    for (const who of [operator, driver]) t.equal((await place(who.token, order('not allowed'))).statusCode, 403)
  })

  t.test('admins record the payment', async (t) => {
    const pkg: PackageJson = (await place(bob.token, order('to be paid'))).json()
    const res = await call('PATCH', `/packages/${pkg.trackingNumber}`, { token: admin.token, payload: { paymentStatus: 'paid' } })
    t.equal(res.statusCode, 200)
    t.equal((await get(bob.token, pkg.trackingNumber) as PackageJson & { paymentStatus: string }).paymentStatus, 'paid')
  })

  t.test('staff filter lists by customerId and driverId', async (t) => {
    const list = async (token: string, query: string) => {
      const res = await call('GET', `/packages${query}`, { token })
      if (res.statusCode !== 200) throw new Error(`GET /packages${query}: ${res.statusCode} ${res.body}`)
      return (res.json().items as PackageJson[]).map((p) => p.trackingNumber)
    }
    const bobs = (await gw.pool.query<{ tracking_number: string }>('SELECT tracking_number FROM packages WHERE customer_id = $1 ORDER BY created_at DESC, id DESC', [bob.id])).rows.map((r) => r.tracking_number)
    t.ok(bobs.length >= 3)
    t.same(await list(operator.token, `?customerId=${bob.id}`), bobs, "bob's orders, newest first")
    await assign(admin.token, bobs[0]!, driver.id)
    t.same(await list(operator.token, `?driverId=${driver.id}`), [bobs[0]])
    t.same(await list(operator.token, `?customerId=${ann.id}&driverId=${driver.id}`), [], 'filters combine')
    t.same(await list(ann.token, `?customerId=${bob.id}`), [], "a customer asking for someone else's gets nothing")
    t.equal((await call('GET', '/packages?customerId=nope', { token: operator.token })).statusCode, 400)
  })

  t.test('with ORDER_FINGERPRINT_S=0 a repeat is a new order', async (t) => {
    const off = await testGateway(t, { ORDER_FINGERPRINT_S: '0' }, { shared: gw })
    const post = () => api(off).call('POST', '/packages', { token: ann.token, payload: order('fingerprint off') })
    t.same([(await post()).statusCode, (await post()).statusCode], [201, 201])
    t.equal(await count('fingerprint off'), 2)
  })

  t.test('in the memory store (embedded mode) a double click is still one order', async (t) => {
    const alone = await testGateway(t, {}, { shared: gw, memoryStores: true })
    const clicks = await Promise.all([1, 2].map(() => api(alone).call('POST', '/packages', { token: ann.token, payload: order('memory store') })))
    t.same(clicks.map((r) => r.statusCode).sort(), [200, 201])
    t.equal(await count('memory store'), 1)
  })
})
