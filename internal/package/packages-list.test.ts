import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { api, errorBody, type PackageJson } from './fixtures.test.js'

t.test('listing packages', async (t) => {
  const gw = await testGateway(t)
  const { call, create, status, patch, assign } = api(gw)
  const admin = await gw.user('admin')
  const operator = await gw.user('operator')
  const list = async (query: string, token = admin.token): Promise<{ items: PackageJson[]; nextCursor: string | null }> => {
    const res = await call('GET', `/packages${query}`, { token })
    if (res.statusCode !== 200) throw new Error(`GET /packages${query}: ${res.statusCode} ${res.body}`)
    return res.json()
  }

  const created: PackageJson[] = []
  for (let i = 0; i < 25; i++) {
    created.push(await create(admin.token, {
      trackingNumber: `LIST${String(i).padStart(6, '0')}`,
      description: i % 5 === 0 ? `Blue widget no. ${i}` : `Parcel ${i}`,
      recipient: { name: i === 7 ? 'Zoë Quartermaine' : `Recipient ${i}` },
    }))
  }
  const inTransit = created.filter((_, i) => i % 3 === 0)
  for (const p of inTransit) await status(admin.token, p.trackingNumber, 'in_transit')

  t.test('cursor pagination returns every package exactly once, newest first', async (t) => {
    const pages: PackageJson[][] = []
    let cursor: string | null = null
    do {
      const page: { items: PackageJson[]; nextCursor: string | null } = await list(`?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      pages.push(page.items)
      cursor = page.nextCursor
      if (pages.length > 10) throw new Error('pagination does not end')
    } while (cursor)
    t.same(pages.map((p) => p.length), [10, 10, 5], 'three pages')
    const seen = pages.flat().map((p) => p.trackingNumber)
    t.equal(new Set(seen).size, 25, 'no duplicates')
    t.same([...seen].sort(), created.map((p) => p.trackingNumber).sort(), 'every package')
    const times = pages.flat().map((p) => p.createdAt)
    t.same(times, [...times].sort().reverse(), 'ordered by createdAt descending')
    const exact = await list('?limit=25')
    t.equal(exact.items.length, 25)
    t.equal(exact.nextCursor, null, 'a page that ends the list has nextCursor null')
  })

  t.test('packages created in the same millisecond still page exactly once', async (t) => {
    const when = new Date('2031-03-04T05:06:07.089Z')
    const { rows } = await gw.pool.query<{ id: string }>(
      `INSERT INTO packages (tracking_number, status, carrier, sender, recipient, created_at, updated_at)
       SELECT 'TIE' || lpad(g::text, 7, '0'), 'pending', 'delivertrack', '{"name":"s"}', '{"name":"r"}', $1, $1
       FROM generate_series(1, 7) g RETURNING id`,
      [when],
    )
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { items: PackageJson[]; nextCursor: string | null } = await list(`?q=TIE&limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...page.items.map((p) => p.id))
      cursor = page.nextCursor
    } while (cursor && seen.length < 50)
    t.same([...seen].sort(), rows.map((r) => r.id).sort(), 'each of the tied packages exactly once')
    await gw.pool.query(`DELETE FROM packages WHERE tracking_number LIKE 'TIE%'`)
  })

  t.test('rows with sub-millisecond created_at (the column default now()) page exactly once', async (t) => {
    // PostgreSQL keeps microseconds (a writer relying on the column's DEFAULT now() stores them);
    // seven rows within one millisecond, as such a writer could produce.
    const ids: string[] = []
    for (let i = 1; i <= 7; i++) {
      const { rows } = await gw.pool.query<{ id: string }>(
        `INSERT INTO packages (tracking_number, status, carrier, sender, recipient, created_at)
         VALUES ($1, 'pending', 'delivertrack', '{"name":"s"}', '{"name":"r"}', $2::timestamptz) RETURNING id`,
        [`MICRO${String(i).padStart(5, '0')}`, `2031-05-06T07:08:09.123${i}00Z`],
      )
      ids.push(rows[0]!.id)
    }
    for (const limit of [1, 3]) {
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const page: { items: PackageJson[]; nextCursor: string | null } = await list(`?q=MICRO&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
        seen.push(...page.items.map((p) => p.trackingNumber))
        cursor = page.nextCursor
      } while (cursor && seen.length < 50)
      t.same(seen, ['MICRO00007', 'MICRO00006', 'MICRO00005', 'MICRO00004', 'MICRO00003', 'MICRO00002', 'MICRO00001'], `limit ${limit}: all, newest first`)
    }
    await gw.pool.query('DELETE FROM packages WHERE id = ANY($1)', [ids])
  })

  t.test('the default limit is 50 and the bounds are 1..200', async (t) => {
    for (let i = 0; i < 30; i++) await create(admin.token, { description: `filler ${i}` })
    const all = await list('')
    t.equal(all.items.length, 50, 'default limit 50')
    t.type(all.nextCursor, 'string')
    t.equal((await list('?limit=1')).items.length, 1)
    t.equal((await list('?limit=200')).items.length, 55)
    for (const limit of ['0', '201', '-1', 'ten', '1.5']) {
      const res = await call('GET', `/packages?limit=${limit}`, { token: admin.token })
      t.equal(res.statusCode, 400, `limit=${limit}`)
      t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/query/limit' }] })
    }
  })

  t.test('a cursor this API did not return is 400', async (t) => {
    const forged = [
      'garbage',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('["not a date","00000000-0000-4000-8000-000000000000"]').toString('base64url'),
      Buffer.from('["2030-01-01T00:00:00Z","not-a-uuid"]').toString('base64url'),
      Buffer.from('null').toString('base64url'),
      Buffer.from('["2030-02-31T00:00:00Z","00000000-0000-4000-8000-000000000000"]').toString('base64url'),
      Buffer.from('["0000-01-01T00:00:00Z","00000000-0000-4000-8000-000000000000"]').toString('base64url'),
      Buffer.from('["2030-01-01 00:00:00","00000000-0000-4000-8000-000000000000"]').toString('base64url'),
      Buffer.from('["2030-01-01T00:00:00.1234567Z","00000000-0000-4000-8000-000000000000"]').toString('base64url'),
    ]
    for (const cursor of forged) {
      const res = await call('GET', `/packages?cursor=${cursor}`, { token: admin.token })
      t.equal(res.statusCode, 400, `cursor ${cursor}`)
      t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/query/cursor' }] })
    }
  })

  t.test('status filter', async (t) => {
    const res = await list('?status=in_transit&limit=200', operator.token)
    t.same(res.items.map((p) => p.trackingNumber).sort(), inTransit.map((p) => p.trackingNumber).sort())
    t.ok(res.items.every((p) => p.status === 'in_transit'))
    t.same((await list('?status=delivered')).items, [], 'no delivered ones')
    const bad = await call('GET', '/packages?status=lost', { token: admin.token })
    t.match(bad.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/query/status' }] })
  })

  t.test('q searches number, description and names, case-insensitively', async (t) => {
    const widgets = await list('?q=blue%20WIDGET&limit=200')
    t.same(widgets.items.map((p) => p.trackingNumber).sort(), created.filter((_, i) => i % 5 === 0).map((p) => p.trackingNumber).sort(), 'description')
    t.same((await list('?q=list000012')).items.map((p) => p.trackingNumber), ['LIST000012'], 'tracking number')
    t.same((await list('?q=zoë')).items.map((p) => p.trackingNumber), ['LIST000007'], 'recipient name')
    t.same((await list('?q=Sender%20Shop&limit=200')).items.length, 55, 'sender name')
    t.same((await list('?q=%25')).items, [], 'a literal % matches nothing')
    t.same((await list('?q=_')).items, [], 'a literal _ matches nothing')
    const both = await list('?q=widget&status=in_transit&limit=200')
    t.same(both.items.map((p) => p.trackingNumber).sort(), ['LIST000000', 'LIST000015'], 'filters combine')
    const paged = await list('?q=widget&limit=2')
    const rest = await list(`?q=widget&limit=2&cursor=${paged.nextCursor}`)
    const last = await list(`?q=widget&limit=2&cursor=${rest.nextCursor}`)
    t.same([...paged.items, ...rest.items, ...last.items].map((p) => p.trackingNumber).sort(), widgets.items.map((p) => p.trackingNumber).sort(), 'q pages too')
    t.equal(last.nextCursor, null)
  })

  t.test('customers list what they own (not what they merely track), drivers what is assigned to them', async (t) => {
    const customer = await gw.user('customer')
    const driver = await gw.user('driver')
    t.same((await list('', customer.token)).items, [], 'a new customer owns nothing')
    t.same((await list('', driver.token)).items, [], 'a new driver has nothing assigned')
    const tracked = [created[3]!, created[4]!, created[20]!]
    for (const p of tracked) await patch(admin.token, p.trackingNumber, { customerId: customer.id })
    t.equal((await call('POST', '/me/trackings', { token: customer.token, payload: { trackingNumber: created[5]!.trackingNumber } })).statusCode, 201)
    const mine = await list('?limit=200', customer.token)
    t.same(mine.items.map((p) => p.trackingNumber).sort(), tracked.map((p) => p.trackingNumber).sort())
    t.same((await list('?status=in_transit', customer.token)).items.map((p) => p.trackingNumber), ['LIST000003'], 'filters apply within the scope')
    const page1 = await list('?limit=2', customer.token)
    const page2 = await list(`?limit=2&cursor=${page1.nextCursor}`, customer.token)
    t.same([...page1.items, ...page2.items].map((p) => p.trackingNumber).sort(), tracked.map((p) => p.trackingNumber).sort(), 'and pages')
    t.equal(page2.nextCursor, null)

    for (const p of [created[1]!, created[2]!]) await assign(admin.token, p.trackingNumber, driver.id)
    t.same((await list('', driver.token)).items.map((p) => p.trackingNumber).sort(), ['LIST000001', 'LIST000002'])
    t.same((await list('?q=list', customer.token)).items.length, 3, 'q cannot widen a customer scope')
  })
})
