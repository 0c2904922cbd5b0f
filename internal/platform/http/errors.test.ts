import t from 'tap'
import { bearer, testGateway } from '../../app/testing/gateway.js'
import { createServer } from './server.js'

// The contract's error body and x-request-id, checked through the real app.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

t.test('error bodies and request ids on the real gateway', async (t) => {
  const gw = await testGateway(t)
  const { app } = gw

  t.test('unknown route is 404 not_found with the error shape', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' })
    t.equal(res.statusCode, 404)
    t.match(res.headers['content-type'], /^application\/json/)
    const body = res.json()
    t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
    t.equal(body.statusCode, 404)
    t.equal(body.error, 'Not Found')
    t.equal(body.code, 'not_found')
    t.type(body.message, 'string')
    t.ok(body.message.length > 0)
    t.match(res.headers['x-request-id'], UUID, '404 carries a generated x-request-id')
  })

  t.test('malformed JSON is 400 validation_failed with details', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "a@example.com", "password": ',
    })
    t.equal(res.statusCode, 400)
    const body = res.json()
    t.equal(body.statusCode, 400)
    t.equal(body.error, 'Bad Request')
    t.equal(body.code, 'validation_failed')
    t.type(body.message, 'string')
    t.ok(Array.isArray(body.details) && body.details.length > 0, 'details is a non-empty list')
    for (const d of body.details) {
      t.type(d.path, 'string')
      t.type(d.message, 'string')
    }
    t.ok(res.headers['x-request-id'], '400 carries x-request-id')
  })

  t.test('empty JSON body is 400 validation_failed', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: '' })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'validation_failed')
  })

  t.test('a body over 1 MB is 413 payload_too_large', async (t) => {
    const payload = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(1_100_000) })
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 413)
    const body = res.json()
    t.equal(body.statusCode, 413)
    t.equal(body.error, 'Payload Too Large')
    t.equal(body.code, 'payload_too_large')
    t.type(body.message, 'string')
    t.ok(res.headers['x-request-id'])
  })

  t.test('text/plain on a JSON route is 415 unsupported_media_type', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'text/plain' },
      payload: '{"email":"a@example.com","password":"whatever1"}',
    })
    t.equal(res.statusCode, 415)
    const body = res.json()
    t.equal(body.statusCode, 415)
    t.equal(body.error, 'Unsupported Media Type')
    t.equal(body.code, 'unsupported_media_type')
    t.type(body.message, 'string')
    t.ok(res.headers['x-request-id'])
  })

  t.test('an unknown content type is 415 too', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/register', headers: { 'content-type': 'application/xml' }, payload: '<a/>' })
    t.equal(res.statusCode, 415)
    t.equal(res.json().code, 'unsupported_media_type')
  })

  t.test('validation lists every failing body field', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'not-an-email', password: 'short' } })
    t.equal(res.statusCode, 400)
    const body = res.json()
    t.equal(body.code, 'validation_failed')
    t.equal(body.error, 'Bad Request')
    const paths = (body.details as Array<{ path: string; message: string }>).map((d) => d.path).sort()
    t.same(paths, ['/email', '/name', '/password'], 'one detail per failing field')
    for (const d of body.details) t.ok(d.message.length > 0, `${d.path} has a message`)
    t.ok(body.message.length > 0)
  })

  t.test('missing fields on login are listed with their paths', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: {} })
    t.equal(res.statusCode, 400)
    const paths = (res.json().details as Array<{ path: string }>).map((d) => d.path).sort()
    t.same(paths, ['/email', '/password'])
  })

  t.test('nested body fields have nested paths', async (t) => {
    const admin = await gw.user('admin')
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/packages',
      headers: bearer(admin.token),
      payload: { sender: { name: 'Shop' }, recipient: { name: '' }, origin: { lat: 91, lng: 0 } },
    })
    t.equal(res.statusCode, 400)
    const paths = (res.json().details as Array<{ path: string }>).map((d) => d.path).sort()
    t.same(paths, ['/origin/lat', '/recipient/name'])
  })

  t.test('querystring failures are prefixed with /query', async (t) => {
    const admin = await gw.user('admin')
    const res = await app.inject({ method: 'GET', url: '/api/v1/packages?limit=0', headers: bearer(admin.token) })
    t.equal(res.statusCode, 400)
    const body = res.json()
    t.equal(body.code, 'validation_failed')
    t.same(body.details.map((d: { path: string }) => d.path), ['/query/limit'])
    const ok = await app.inject({ method: 'GET', url: '/api/v1/packages?limit=1', headers: bearer(admin.token) })
    t.equal(ok.statusCode, 200, 'a valid limit passes')
  })

  t.test('unknown body properties are refused and named, not dropped', async (t) => {
    const admin = await gw.user('admin')
    const created = await app.inject({ method: 'POST', url: '/api/v1/packages', headers: bearer(admin.token), payload: { sender: { name: 'S' }, recipient: { name: 'R' } } })
    t.equal(created.statusCode, 201)
    const tn = created.json().trackingNumber as string
    // PATCH edits details; status has its own route. Dropping the field would answer 200 with nothing changed.
    const res = await app.inject({ method: 'PATCH', url: `/api/v1/packages/${tn}`, headers: bearer(admin.token), payload: { status: 'delivered' } })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { code: 'validation_failed', message: '/status is not a known property', details: [{ path: '/status', message: 'is not a known property' }] })
    const nested = await app.inject({ method: 'PATCH', url: `/api/v1/packages/${tn}`, headers: bearer(admin.token), payload: { recipient: { name: 'R', mobile: '123' } } })
    t.match(nested.json(), { statusCode: 400, details: [{ path: '/recipient/mobile', message: 'is not a known property' }] }, 'nested objects too')
    const after = (await app.inject({ method: 'GET', url: `/api/v1/packages/${tn}`, headers: bearer(admin.token) })).json()
    t.match(after, { status: 'pending', version: 1 }, 'nothing was written')
  })

  t.test('a field that must be one of some values says which, once', async (t) => {
    const admin = await gw.user('admin')
    const res = await app.inject({ method: 'GET', url: '/api/v1/packages?status=bogus', headers: bearer(admin.token) })
    t.equal(res.statusCode, 400)
    const body = res.json()
    t.same(body.details, [{ path: '/query/status', message: 'must be one of: pending, info_received, in_transit, out_for_delivery, failed_attempt, available_for_pickup, exception, delivered, returned, cancelled, expired' }])
    t.equal(body.message, `/query/status ${body.details[0].message}`)
    const role = await app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer(admin.token), payload: { email: 'boss@example.com', password: 'long-enough-pass', name: 'B', role: 'boss' } })
    t.same(role.json().details, [{ path: '/role', message: 'must be one of: admin, operator, customer, driver' }])
  })

  t.test('a nullable field that is wrong as its other type names only that', async (t) => {
    const admin = await gw.user('admin')
    const created = await app.inject({ method: 'POST', url: '/api/v1/packages', headers: bearer(admin.token), payload: { sender: { name: 'S' }, recipient: { name: 'R' } } })
    const tn = created.json().trackingNumber as string
    const patch = (payload: object) => app.inject({ method: 'PATCH', url: `/api/v1/packages/${tn}`, headers: bearer(admin.token), payload })
    t.same((await patch({ origin: { lat: 999, lng: 0 } })).json().details, [{ path: '/origin/lat', message: 'must be <= 90' }], 'no "must be null" next to it')
    t.same((await patch({ weightGrams: 0 })).json().details, [{ path: '/weightGrams', message: 'must be >= 1' }])
    t.same((await patch({ origin: 'Berlin' })).json().details, [{ path: '/origin', message: 'must be object' }])
    t.same((await patch({ description: '' })).json().details, [{ path: '/description', message: 'must NOT have fewer than 1 characters' }], 'an empty text is not taken for null')
    t.same((await patch({ weightGrams: '1200' })).json().details, [{ path: '/weightGrams', message: 'must be integer' }], 'a JSON body is not coerced')
    t.match((await app.inject({ method: 'GET', url: `/api/v1/packages/${tn}`, headers: bearer(admin.token) })).json(), { version: 1 }, 'none of these wrote anything')
    t.equal((await patch({ origin: null, weightGrams: 1200 })).statusCode, 200, 'null and a number are still accepted')
  })

  t.test('401 and 403 have the error shape', async (t) => {
    const anon = await app.inject({ method: 'GET', url: '/api/v1/auth/me' })
    t.equal(anon.statusCode, 401)
    t.match(anon.json(), { statusCode: 401, error: 'Unauthorized', code: 'unauthorized' })
    t.ok(anon.headers['x-request-id'])
    const customer = await gw.user('customer')
    const denied = await app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer(customer.token), payload: {} })
    t.equal(denied.statusCode, 403)
    t.match(denied.json(), { statusCode: 403, error: 'Forbidden', code: 'forbidden' })
  })

  t.test('a safe incoming x-request-id is echoed unchanged', async (t) => {
    for (const id of ['abc-123', 'req_42.retry:1', 'a'.repeat(128)]) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/health', headers: { 'x-request-id': id } })
      t.equal(res.statusCode, 200)
      t.equal(res.headers['x-request-id'], id)
    }
    const notFound = await app.inject({ method: 'GET', url: '/api/v1/nope', headers: { 'x-request-id': 'trace-404' } })
    t.equal(notFound.statusCode, 404)
    t.equal(notFound.headers['x-request-id'], 'trace-404', 'kept on 404')
    const bad = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'x-request-id': 'trace-400' }, payload: {} })
    t.equal(bad.statusCode, 400)
    t.equal(bad.headers['x-request-id'], 'trace-400', 'kept on 400')
  })

  t.test('an unsafe incoming x-request-id is replaced by a generated one', async (t) => {
    for (const id of ['has spaces in it', 'x'.repeat(300), '<script>', 'line\tbreak']) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/health', headers: { 'x-request-id': id } })
      t.equal(res.statusCode, 200)
      t.not(res.headers['x-request-id'], id)
      t.match(res.headers['x-request-id'], UUID, `"${id.slice(0, 20)}" replaced by a uuid`)
    }
  })

  t.test('a URL the router cannot decode still gets the error shape and an id', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/packages/%E0%A4%A', headers: { 'x-request-id': 'trace-bad-url' } })
    t.equal(res.statusCode, 400)
    const body = res.json()
    t.equal(body.statusCode, 400)
    t.equal(body.error, 'Bad Request')
    t.equal(body.code, 'validation_failed')
    t.ok(Array.isArray(body.details) && body.details.length > 0)
    t.equal(res.headers['x-request-id'], 'trace-bad-url')
    const generated = await app.inject({ method: 'GET', url: '/%zz' })
    t.equal(generated.statusCode, 400)
    t.equal(generated.json().code, 'validation_failed')
    t.match(generated.headers['x-request-id'], UUID)
  })

  t.test('an over-long path parameter is a validation error, not a bare 414', async (t) => {
    const admin = await gw.user('admin')
    const res = await app.inject({ method: 'GET', url: `/api/v1/packages/${'A'.repeat(150)}`, headers: bearer(admin.token) })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'validation_failed')
    t.equal(res.json().error, 'Bad Request')
    t.ok(res.headers['x-request-id'])
  })

  t.test('text holding a NUL character is a validation error, and nothing is written', async (t) => {
    const admin = await gw.user('admin')
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/packages',
      headers: bearer(admin.token),
      payload: { trackingNumber: 'NULCHAR0001', carrier: 'delivertrack', description: 'box\u0000', sender: { name: 'S', address: 'A' }, recipient: { name: 'R', address: 'B' } },
    })
    t.equal(created.statusCode, 400, 'in a text column')
    t.equal(created.json().code, 'validation_failed')
    t.match(created.json().details, [{ path: '/', message: /NUL character/ }])
    const missing = await app.inject({ method: 'GET', url: '/api/v1/packages/NULCHAR0001', headers: bearer(admin.token) })
    t.equal(missing.statusCode, 404, 'the package was not created')

    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/packages',
      headers: bearer(admin.token),
      payload: { trackingNumber: 'NULCHAR0002', carrier: 'delivertrack', sender: { name: 'S', address: 'A' }, recipient: { name: 'R', address: 'B' } },
    })
    t.equal(ok.statusCode, 201)
    const note = await app.inject({ method: 'POST', url: '/api/v1/packages/NULCHAR0002/status', headers: bearer(admin.token), payload: { status: 'in_transit', note: 'x\u0000y' } })
    t.equal(note.statusCode, 400, 'in an event (jsonb)')
    t.equal(note.json().code, 'validation_failed')
    const pkg = (await app.inject({ method: 'GET', url: '/api/v1/packages/NULCHAR0002', headers: bearer(admin.token) })).json()
    t.equal(pkg.status, 'pending', 'the status did not change')
    const register = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'nul@example.com', password: 'long-enough-pass', name: 'N\u0000' } })
    t.equal(register.statusCode, 400, 'in an account')
  })

  t.test('each request gets its own id', async (t) => {
    const a = await app.inject({ method: 'GET', url: '/api/v1/health' })
    const b = await app.inject({ method: 'GET', url: '/api/v1/health' })
    t.match(a.headers['x-request-id'], UUID)
    t.not(a.headers['x-request-id'], b.headers['x-request-id'])
  })
})

t.test('a 5xx never leaks internals', async (t) => {
  const lines: string[] = []
  const app = await createServer({
    logLevel: 'error',
    bodyLimit: 1_048_576,
    version: '0.0.0-test',
    logger: { level: 'error', stream: { write: (line: string) => void lines.push(line) } },
  })
  t.teardown(() => app.close())
  app.get('/boom', async () => {
    throw new Error('secret db detail')
  })
  app.get('/boom-status', async () => {
    throw Object.assign(new Error('secret upstream detail'), { statusCode: 502 })
  })
  await app.ready()

  const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'trace-500' } })
  t.equal(res.statusCode, 500)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
  t.equal(body.statusCode, 500)
  t.equal(body.error, 'Internal Server Error')
  t.equal(body.code, 'internal')
  t.notMatch(res.body, 'secret', 'the body does not carry the detail')
  t.notMatch(res.body, 'stack')
  t.equal(res.headers['x-request-id'], 'trace-500', '500 carries x-request-id')
  t.ok(lines.some((l) => l.includes('secret db detail') && l.includes('"requestId":"trace-500"')), 'the log line has the detail and the request id')

  const other = await app.inject({ method: 'GET', url: '/boom-status' })
  t.equal(other.statusCode, 500)
  t.equal(other.json().code, 'internal')
  t.notMatch(other.body, 'secret')
})

t.test('form bodies are only for the OAuth2 token route', async (t) => {
  const gw = await testGateway(t)
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const login = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: form, payload: 'email=a%40b.c&password=x' })
  t.equal(login.statusCode, 415)
  t.equal(login.json().code, 'unsupported_media_type')
  const token = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: form, payload: 'grant_type=client_credentials&client_id=nobody&client_secret=wrong' })
  t.equal(token.statusCode, 401, 'the token route parses the form and checks the credentials')
})
