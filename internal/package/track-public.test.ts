import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { api, errorBody } from './fixtures.test.js'

const secrets = {
  senderName: 'Wolfgang Geheimnis',
  senderAddress: 'Hidden Lane 42, Hamburg',
  recipientName: 'Priya Privatsphare',
  recipientAddress: 'Secret Street 7, Munich',
  email: 'priya.private@example.org',
  phone: '+49 170 5550199',
  originAddress: 'Warehouse Alpha',
  destinationAddress: 'Front Door Omega',
}
const coords = { originLat: 53.551086, originLng: 9.993682, destLat: 48.137154, destLng: 11.576124, hopLat: 50.110924, hopLng: 8.682127 }

t.test('public tracking', async (t) => {
  const gw = await testGateway(t)
  const { call, create, status } = api(gw)
  const admin = await gw.user('admin')
  const pkg = await create(admin.token, {
    trackingNumber: 'PUBLIC00001',
    carrier: 'delivertrack',
    description: 'Confidential prototype',
    sender: { name: secrets.senderName, address: secrets.senderAddress },
    recipient: { name: secrets.recipientName, address: secrets.recipientAddress, email: secrets.email, phone: secrets.phone },
    origin: { lat: coords.originLat, lng: coords.originLng, address: secrets.originAddress },
    destination: { lat: coords.destLat, lng: coords.destLng, address: secrets.destinationAddress },
    estimatedDelivery: '2030-06-01T12:00:00.000Z',
  })
  await status(admin.token, pkg.trackingNumber, {
    status: 'in_transit',
    note: 'Arrived at hub',
    location: { lat: coords.hopLat, lng: coords.hopLng, city: 'Frankfurt' },
    occurredAt: '2025-01-02T03:04:05.000Z',
  })
  const track = (headers: Record<string, string> = {}, tn = 'PUBLIC00001') => call('GET', `/track/${tn}`, { headers })

  t.test('guests get the redacted view', async (t) => {
    const res = await track()
    t.equal(res.statusCode, 200, res.body)
    for (const [what, value] of Object.entries({ ...secrets, description: 'Confidential prototype', id: pkg.id })) {
      t.notOk(res.body.includes(value), `no ${what} in the body`)
    }
    // Timestamps can hold the same digits ("…T12:25:11.576Z" holds "11.57"): look past them.
    const withoutTimes = res.body.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    for (const [what, value] of Object.entries(coords)) {
      t.notOk(withoutTimes.includes(String(value)), `no ${what} in the body`)
      t.notOk(withoutTimes.includes(String(value).slice(0, 5)), `not even a rounded ${what}`)
    }
    const view = res.json()
    t.same(Object.keys(view).sort(), ['carrier', 'estimatedDelivery', 'events', 'lastUpdatedAt', 'status', 'trackingNumber'])
    t.match(view, {
      trackingNumber: 'PUBLIC00001',
      status: 'in_transit',
      carrier: 'delivertrack',
      estimatedDelivery: '2030-06-01T12:00:00.000Z',
      lastUpdatedAt: /Z$/,
    })
    t.same(view.events, [
      { status: 'pending', occurredAt: pkg.createdAt },
      { status: 'in_transit', occurredAt: '2025-01-02T03:04:05.000Z', note: 'Arrived at hub', city: 'Frankfurt' },
    ])
    t.match(res.headers['cache-control'], /^public, max-age=\d+$/)
    t.equal(res.headers['cache-control'], `public, max-age=${gw.config.TRACK_MAX_AGE_S}`)
    t.match(res.headers.etag, /^"[^"]+"$/, 'a strong etag')
  })

  t.test('an Authorization header changes nothing', async (t) => {
    const res = await track({ authorization: 'Bearer not-a-token' })
    t.equal(res.statusCode, 200, 'a bad token on the public route is ignored')
    t.notOk(res.body.includes(secrets.recipientName))
    const staff = await track({ authorization: `Bearer ${admin.token}` })
    t.equal(staff.body, res.body, 'admins get the same redacted view')
  })

  t.test('If-None-Match answers 304', async (t) => {
    const first = await track()
    const etag = first.headers.etag as string
    const same = await track({ 'if-none-match': etag })
    t.equal(same.statusCode, 304)
    t.equal(same.body, '', 'no body')
    t.notOk(same.headers['content-type'], 'no content-type for a body that is not there')
    t.notOk(same.headers['content-length'], 'nor a content-length')
    t.equal(same.headers.etag, etag, 'the etag again')
    t.match(same.headers['cache-control'], /^public, max-age=\d+$/)
    t.equal((await track({ 'if-none-match': `"other", ${etag}` })).statusCode, 304, 'one of a list')
    t.equal((await track({ 'if-none-match': '*' })).statusCode, 304, 'the wildcard')
    t.equal((await track({ 'if-none-match': `W/${etag}` })).statusCode, 304, 'weak comparison: W/ of the etag matches')
    t.equal((await track({ 'if-none-match': '"something-else"' })).statusCode, 200, 'another etag gets the body')
  })

  t.test('a status update changes the etag and the view', async (t) => {
    const before = await track()
    const etag = before.headers.etag as string
    await status(admin.token, 'PUBLIC00001', { status: 'out_for_delivery', note: 'On the van' })
    const stale = await track({ 'if-none-match': etag })
    t.equal(stale.statusCode, 200, 'the old etag no longer matches')
    t.not(stale.headers.etag, etag, 'a new etag')
    const view = stale.json()
    t.equal(view.status, 'out_for_delivery', 'the new status is served, not the cached one')
    t.same(view.events.at(-1), { status: 'out_for_delivery', occurredAt: view.events.at(-1).occurredAt, note: 'On the van' })
    t.equal(view.events.length, 3)
    t.equal((await track({ 'if-none-match': stale.headers.etag as string })).statusCode, 304, 'the new etag validates')
  })

  t.test('a PATCH of a public field shows at once', async (t) => {
    const before = await track()
    const patched = await call('PATCH', '/packages/PUBLIC00001', { token: admin.token, payload: { estimatedDelivery: '2030-07-01T00:00:00.000Z' } })
    t.equal(patched.statusCode, 200)
    const after = await track()
    t.equal(after.json().estimatedDelivery, '2030-07-01T00:00:00.000Z', 'a new estimate shows at once')
    t.not(after.headers.etag, before.headers.etag)
  })

  t.test('unknown and malformed numbers', async (t) => {
    const unknown = await track({}, 'NOSUCHPKG123')
    t.equal(unknown.statusCode, 404)
    t.match(unknown.json(), errorBody(404, 'not_found'))
    t.equal((await track({}, 'public00001')).statusCode, 200, 'lower case works')
    const bad = await track({}, 'no!')
    t.equal(bad.statusCode, 400)
    t.equal(bad.json().code, 'validation_failed')
  })
})

t.test('public tracking is rate limited per client IP', async (t) => {
  const gw = await testGateway(t, { RATE_LIMIT_TRACK_MAX: '3' })
  const { call, create } = api(gw)
  const admin = await gw.user('admin')
  const pkg = await create(admin.token)
  const track = (remoteAddress = '203.0.113.7') => call('GET', `/track/${pkg.trackingNumber}`, { remoteAddress })
  for (let i = 1; i <= 3; i++) {
    const res = await track()
    t.equal(res.statusCode, 200, `request ${i} passes`)
    if (i === 1) t.match(res.json(), { status: 'pending', estimatedDelivery: null, events: [{ status: 'pending' }] }, 'no estimate: null')
    t.equal(res.headers['x-ratelimit-limit'], '3')
    t.equal(res.headers['x-ratelimit-remaining'], String(3 - i))
  }
  const limited = await track()
  t.equal(limited.statusCode, 429, 'the 4th request is refused')
  t.match(limited.json(), { statusCode: 429, error: 'Too Many Requests', code: 'rate_limited', message: String })
  t.match(limited.headers['retry-after'], /^\d+$/)
  t.equal(limited.headers['x-ratelimit-limit'], '3')
  t.equal(limited.headers['x-ratelimit-remaining'], '0')
  t.match(limited.headers['x-ratelimit-reset'], /^\d+$/)
  t.ok(limited.headers['x-request-id'], 'with a request id like every response')
  t.equal((await track('198.51.100.23')).statusCode, 200, 'another IP is not affected')
  const staff = await call('GET', `/packages/${pkg.trackingNumber}`, { token: admin.token, remoteAddress: '203.0.113.7' })
  t.equal(staff.statusCode, 200, 'the tight limit is for /track only')
})
