import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createSigner } from 'fast-jwt'
import Fastify from 'fastify'
import { installErrorHandling } from '../platform/http/errors.js'
import { authentication, principalOf } from './authenticate.js'
import { bearer, testGateway, type TestGateway } from '../app/testing/gateway.js'
import { PostgresRefreshTokenRepository, PostgresServiceClientRepository, PostgresUserRepository } from './postgres.js'
import { HmacAccessTokenSigner } from './jwt.js'
import { ScryptHasher } from './password.js'
import { AuthService } from './service.js'

// One gateway (own schema and key prefix) for the whole file; every test makes its own accounts.
const gw: TestGateway = await testGateway(t)
const json = { 'content-type': 'application/json' }
const unique = (prefix = 'user') => `${prefix}-${randomBytes(5).toString('hex')}@example.com`

function post(url: string, payload: unknown, headers: Record<string, string> = {}) {
  return gw.app.inject({ method: 'POST', url: `/api/v1${url}`, headers, payload: payload as object })
}
function me(token: string) {
  return gw.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) })
}
async function register(email = unique(), password = 'long enough password', name = 'Ann Example') {
  const res = await post('/auth/register', { email, password, name })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  return res.json<{ user: { id: string; email: string }; accessToken: string; refreshToken: string }>()
}

t.test('register: 201 with the contract shape, a customer account and a working token pair', async (t) => {
  const email = unique('ann')
  const res = await post('/auth/register', { email, password: 'long enough password', name: 'Ann Example' })
  t.equal(res.statusCode, 201, res.body)
  t.match(res.headers['content-type'], /^application\/json/)
  const body = res.json()
  t.match(body, { user: { id: String, email, name: 'Ann Example', role: 'customer' }, accessToken: String, refreshToken: String })
  t.notOk('passwordHash' in body.user, 'the hash never leaves the server')
  t.notMatch(res.body, 'long enough password')
  const who = await me(body.accessToken)
  t.equal(who.statusCode, 200)
  t.match(who.json(), { id: body.user.id, email, role: 'customer' })
})

t.test('register: the email is normalised and unique regardless of case', async (t) => {
  const local = `Mixed.Case-${randomBytes(4).toString('hex')}`
  const res = await post('/auth/register', { email: `${local}@Example.COM`, password: 'long enough password', name: 'Mixed' })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.json().user.email, `${local.toLowerCase()}@example.com`)

  const dup = await post('/auth/register', { email: `${local.toUpperCase()}@example.com`, password: 'another password', name: 'Dup' })
  t.equal(dup.statusCode, 409)
  t.match(dup.json(), { statusCode: 409, error: 'Conflict', code: 'conflict', message: String })

  const login = await post('/auth/login', { email: `${local.toUpperCase()}@EXAMPLE.com`, password: 'long enough password' })
  t.equal(login.statusCode, 200, 'login is case-insensitive on the email too')
})

t.test('register: invalid input is 400 validation_failed with a detail per field', async (t) => {
  const res = await post('/auth/register', { email: 'not-an-email', password: 'short', name: '' })
  t.equal(res.statusCode, 400)
  const body = res.json()
  t.match(body, { statusCode: 400, error: 'Bad Request', code: 'validation_failed', message: String, details: Array })
  const paths = body.details.map((d: { path: string }) => d.path)
  t.ok(paths.includes('/email'), `details name /email (${paths})`)
  t.ok(paths.includes('/password'), `details name /password (${paths})`)
  t.ok(paths.includes('/name'), `details name /name (${paths})`)

  const missing = await post('/auth/register', {})
  t.equal(missing.statusCode, 400)
  const missingPaths = missing.json().details.map((d: { path: string }) => d.path)
  t.same([...missingPaths].sort(), ['/email', '/name', '/password'], 'missing fields are named too')

  const long = await post('/auth/register', { email: unique(), password: 'x'.repeat(201), name: 'Long' })
  t.equal(long.statusCode, 400)
  t.match(long.json().details, [{ path: '/password' }])

  const notJson = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/register', headers: json, payload: '{"email":' })
  t.equal(notJson.statusCode, 400)
  t.equal(notJson.json().code, 'validation_failed')
})

t.test('register: a blank name is refused, not stored empty', async (t) => {
  const res = await post('/auth/register', { email: unique(), password: 'long enough password', name: '   ' })
  t.equal(res.statusCode, 400, res.body)
  t.match(res.json().details, [{ path: '/name' }])
})

t.test('login: 200 with the same shape; wrong password and unknown email are the same 401', async (t) => {
  const email = unique('login')
  const { user } = await register(email, 'the right password')
  const ok = await post('/auth/login', { email, password: 'the right password' })
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { user: { id: user.id, email, role: 'customer' }, accessToken: String, refreshToken: String })
  t.equal((await me(ok.json().accessToken)).json().id, user.id)

  const wrong = await post('/auth/login', { email, password: 'the wrong password' })
  const unknown = await post('/auth/login', { email: unique('nobody'), password: 'the right password' })
  t.equal(wrong.statusCode, 401)
  t.equal(unknown.statusCode, 401)
  t.match(wrong.json(), { statusCode: 401, error: 'Unauthorized', code: 'unauthorized' })
  t.equal(wrong.json().message, unknown.json().message, 'no hint whether the account exists')
  t.equal((await post('/auth/login', { email })).statusCode, 400, 'a missing password is a validation error')
})

t.test('GET /auth/me needs a valid bearer token', async (t) => {
  const none = await gw.app.inject({ method: 'GET', url: '/api/v1/auth/me' })
  t.equal(none.statusCode, 401)
  t.match(none.json(), { code: 'unauthorized' })
  const basic = await gw.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: 'Basic dXNlcjpwdw==' } })
  t.equal(basic.statusCode, 401)
  const junk = await me('not.a.jwt')
  t.equal(junk.statusCode, 401)
  t.match(junk.json(), { code: 'unauthorized' })
})

t.test('refresh rotates the pair; a reused refresh token revokes its whole family', async (t) => {
  const first = await register()
  const r1 = await post('/auth/refresh', { refreshToken: first.refreshToken })
  t.equal(r1.statusCode, 200, r1.body)
  const pair1 = r1.json()
  t.match(pair1, { accessToken: String, refreshToken: String })
  t.not(pair1.refreshToken, first.refreshToken, 'a new refresh token')
  t.equal((await me(pair1.accessToken)).json().id, first.user.id, 'the new access token works')

  const r2 = await post('/auth/refresh', { refreshToken: pair1.refreshToken })
  t.equal(r2.statusCode, 200, 'the new refresh token works once')
  const newest = r2.json().refreshToken

  const replay = await post('/auth/refresh', { refreshToken: first.refreshToken })
  t.equal(replay.statusCode, 401, 'the used token is refused')
  t.match(replay.json(), { code: 'unauthorized' })

  const afterTheft = await post('/auth/refresh', { refreshToken: newest })
  t.equal(afterTheft.statusCode, 401, 'the newest token of that family is revoked too')
})

t.test('reuse detection revokes only that family, not the user\'s other sessions', async (t) => {
  const email = unique()
  const phone = await register(email, 'long enough password')
  const laptop = (await post('/auth/login', { email, password: 'long enough password' })).json()
  const rotated = (await post('/auth/refresh', { refreshToken: phone.refreshToken })).json()
  t.equal((await post('/auth/refresh', { refreshToken: phone.refreshToken })).statusCode, 401)
  t.equal((await post('/auth/refresh', { refreshToken: rotated.refreshToken })).statusCode, 401)
  t.equal((await post('/auth/refresh', { refreshToken: laptop.refreshToken })).statusCode, 200, 'the other session lives on')
})

t.test('two concurrent refreshes with one token: exactly one wins', async (t) => {
  const { refreshToken } = await register()
  const results = await Promise.all([post('/auth/refresh', { refreshToken }), post('/auth/refresh', { refreshToken })])
  t.same(results.map((r) => r.statusCode).sort(), [200, 401])
})

t.test('a guessed secret for a real token id is refused without ending the real session', async (t) => {
  const { refreshToken } = await register()
  const [id] = refreshToken.split('.')
  const guess = await post('/auth/refresh', { refreshToken: `${id}.${randomBytes(32).toString('base64url')}` })
  t.equal(guess.statusCode, 401)
  t.equal((await post('/auth/refresh', { refreshToken })).statusCode, 200, 'the owner can still refresh')
})

t.test('garbage refresh tokens are 401, a missing one is 400', async (t) => {
  for (const refreshToken of ['garbage', 'a.b', `${'0'.repeat(36)}.${'x'.repeat(43)}`, '00000000-0000-0000-0000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
    const res = await post('/auth/refresh', { refreshToken })
    t.equal(res.statusCode, 401, refreshToken)
    t.match(res.json(), { code: 'unauthorized' })
  }
  const missing = await post('/auth/refresh', {})
  t.equal(missing.statusCode, 400)
  t.match(missing.json().details, [{ path: '/refreshToken' }])
})

t.test('logout: 204, then the refresh token (and its rotations) no longer work', async (t) => {
  const { refreshToken } = await register()
  const rotated = (await post('/auth/refresh', { refreshToken })).json().refreshToken
  const out = await post('/auth/logout', { refreshToken: rotated })
  t.equal(out.statusCode, 204)
  t.equal(out.body, '')
  t.equal((await post('/auth/refresh', { refreshToken: rotated })).statusCode, 401)
  t.equal((await post('/auth/logout', { refreshToken: rotated })).statusCode, 204, 'logging out twice is fine')
  t.equal((await post('/auth/logout', { refreshToken: 'garbage' })).statusCode, 204, 'an unknown token is ignored')
})

t.test('a refresh token expires after REFRESH_TTL_S; each rotation starts a new period', async (t) => {
  // The gateway's clock cannot be moved, so this builds the service over the same tables with a clock of its own.
  const start = Date.now()
  let now = new Date(start)
  const auth = new AuthService({
    users: new PostgresUserRepository(gw.pool),
    refreshTokens: new PostgresRefreshTokenRepository(gw.pool),
    serviceClients: new PostgresServiceClientRepository(gw.pool),
    hasher: new ScryptHasher(1024),
    signer: new HmacAccessTokenSigner(gw.config.JWT_SECRET!, 60),
    refreshTtlSeconds: 3600,
    clock: () => now,
  })
  const email = unique()
  const kept = await auth.register({ email, password: 'long enough password', name: 'Clocked' })
  const idle = await auth.login({ email, password: 'long enough password' })

  now = new Date(start + 3599_000)
  const rotated = await auth.refresh(kept.refreshToken)
  t.ok(rotated.refreshToken, 'still valid just before the end of its period')

  now = new Date(start + 3601_000)
  await t.rejects(auth.refresh(idle.refreshToken), { code: 'unauthorized' }, 'the unused session has expired')
  const again = await auth.refresh(rotated.refreshToken)
  t.ok(again.refreshToken, 'the rotated token has a period of its own')
})

t.test('client credentials: /auth/token with JSON, form and HTTP Basic', async (t) => {
  const admin = await gw.user('admin')
  const created = await post('/service-clients', { name: 'Shop integration' }, bearer(admin.token))
  t.equal(created.statusCode, 201, created.body)
  const { clientId, clientSecret } = created.json()
  t.match(created.json(), { clientId: String, clientSecret: String, name: 'Shop integration' })

  const viaJson = await post('/auth/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret })
  t.equal(viaJson.statusCode, 200, viaJson.body)
  t.match(viaJson.json(), { access_token: String, token_type: 'Bearer', expires_in: gw.config.JWT_ACCESS_TTL_S })
  t.equal(viaJson.headers['cache-control'], 'no-store')

  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret })
  const viaForm = await gw.app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form.toString(),
  })
  t.equal(viaForm.statusCode, 200, viaForm.body)
  t.equal(viaForm.json().token_type, 'Bearer')
  const withScope = await gw.app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `${form.toString()}&scope=packages%3Awrite`,
  })
  t.equal(withScope.statusCode, 200, `parameters it does not know (scope) are ignored, as RFC 6749 asks: ${withScope.body}`)
  const otherGrant = await post('/auth/token', { grant_type: 'password', client_id: clientId, client_secret: clientSecret })
  t.equal(otherGrant.statusCode, 400)
  t.match(otherGrant.json(), { code: 'validation_failed', details: [{ path: '/grant_type', message: 'must be "client_credentials"' }] }, 'another grant type is named as the problem')

  const basic = { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` }
  const viaBasic = await post('/auth/token', { grant_type: 'client_credentials' }, basic)
  t.equal(viaBasic.statusCode, 200, viaBasic.body)
  const viaBasicForm = await gw.app.inject({
    method: 'POST',
    url: '/api/v1/auth/token',
    headers: { ...basic, 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=client_credentials',
  })
  t.equal(viaBasicForm.statusCode, 200, viaBasicForm.body)

  const token = viaBasic.json().access_token
  const who = await me(token)
  t.equal(who.statusCode, 200)
  t.match(who.json(), { role: 'service', email: null })
  const pkg = await post('/packages', { sender: { name: 'Shop' }, recipient: { name: 'Ann' } }, bearer(token))
  t.equal(pkg.statusCode, 201, `a service may create packages: ${pkg.body}`)

  const wrongSecret = await post('/auth/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: `${clientSecret}x` })
  t.equal(wrongSecret.statusCode, 401)
  t.match(wrongSecret.json(), { code: 'unauthorized' })
  const unknownClient = await post('/auth/token', { grant_type: 'client_credentials', client_id: 'dtc_unknown', client_secret: clientSecret })
  t.equal(unknownClient.statusCode, 401)
  const wrongBasic = await post('/auth/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${clientId}:nope`).toString('base64')}` })
  t.equal(wrongBasic.statusCode, 401)
  const noCredentials = await post('/auth/token', { grant_type: 'client_credentials' })
  t.equal(noCredentials.statusCode, 401)
  const badEscape = await post('/auth/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${clientId}:%E0%A4%A`).toString('base64')}` })
  t.equal(badEscape.statusCode, 401, 'a malformed Basic header is a 401, not a 500')

  const wrongGrant = await post('/auth/token', { grant_type: 'password', client_id: clientId, client_secret: clientSecret })
  t.equal(wrongGrant.statusCode, 400)
  t.match(wrongGrant.json(), { code: 'validation_failed' })
  const noGrant = await post('/auth/token', { client_id: clientId, client_secret: clientSecret })
  t.equal(noGrant.statusCode, 400)
})

t.test('POST /users and /service-clients are for admins only', async (t) => {
  const admin = await gw.user('admin')
  const customer = await gw.user('customer')
  const operator = await gw.user('operator')
  const newUser = () => ({ email: unique('staff'), password: 'long enough password', name: 'Staff', role: 'operator' })

  const created = await post('/users', newUser(), bearer(admin.token))
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json(), { id: String, role: 'operator', name: 'Staff' })

  for (const [who, headers, status, code] of [
    ['customer', bearer(customer.token), 403, 'forbidden'],
    ['operator', bearer(operator.token), 403, 'forbidden'],
    ['nobody', {}, 401, 'unauthorized'],
  ] as const) {
    const u = await post('/users', newUser(), headers)
    t.equal(u.statusCode, status, `POST /users as ${who}`)
    t.match(u.json(), { statusCode: status, code })
    const c = await post('/service-clients', { name: 'Sneaky' }, headers)
    t.equal(c.statusCode, status, `POST /service-clients as ${who}`)
    t.match(c.json(), { statusCode: status, code })
  }
  const c = await post('/service-clients', { name: 'Legit' }, bearer(admin.token))
  t.equal(c.statusCode, 201)

  const badRole = await post('/users', { ...newUser(), role: 'superuser' }, bearer(admin.token))
  t.equal(badRole.statusCode, 400)
  t.match(badRole.json().details, [{ path: '/role' }])
  const serviceRole = await post('/users', { ...newUser(), role: 'service' }, bearer(admin.token))
  t.equal(serviceRole.statusCode, 400, 'service is not a user role')
  const taken = await post('/users', { ...newUser(), email: customer.email.toUpperCase() }, bearer(admin.token))
  t.equal(taken.statusCode, 409)
  t.equal(taken.json().code, 'conflict')
})

t.test('an admin-created driver can log in and is a driver', async (t) => {
  const admin = await gw.user('admin')
  const email = unique('driver')
  const created = await post('/users', { email, password: 'drive safely please', name: 'Dan Driver', role: 'driver' }, bearer(admin.token))
  t.equal(created.statusCode, 201)
  const login = await post('/auth/login', { email, password: 'drive safely please' })
  t.equal(login.statusCode, 200)
  t.match(login.json().user, { id: created.json().id, role: 'driver', name: 'Dan Driver' })
  t.match((await me(login.json().accessToken)).json(), { role: 'driver' })
  const create = await post('/packages', { sender: { name: 'Shop' }, recipient: { name: 'Ann' } }, bearer(login.json().accessToken))
  t.equal(create.statusCode, 403, 'a driver may not create packages')
})

t.test('expired, tampered, foreign and unsigned access tokens are 401', async (t) => {
  const customer = await gw.user('customer')
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: customer.id, role: 'customer', kind: 'user', email: customer.email }
  const sign = createSigner({ key: gw.config.JWT_SECRET!, algorithm: 'HS256', iss: 'delivertrack' })
  t.equal((await me(sign({ ...claims, exp: now + 300 }))).statusCode, 200, 'a well-formed token of our own works (control)')

  const expired = await me(sign({ ...claims, iat: now - 3600, exp: now - 60 }))
  t.equal(expired.statusCode, 401)
  t.match(expired.json(), { code: 'unauthorized', message: /expired/ })

  const [header, payload, signature] = customer.token.split('.')
  const elevated = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'admin' })).toString('base64url')
  const tampered = `${header}.${elevated}.${signature}`
  t.equal((await me(tampered)).statusCode, 401)
  const asAdmin = await post('/users', { email: unique(), password: 'long enough password', name: 'x', role: 'admin' }, bearer(tampered))
  t.equal(asAdmin.statusCode, 401, 'a tampered role grants nothing')

  const otherKey = createSigner({ key: 'another-secret-0123456789abcdef', algorithm: 'HS256', iss: 'delivertrack' })
  t.equal((await me(otherKey({ ...claims, role: 'admin' }))).statusCode, 401, 'signed with another secret')
  const otherIssuer = createSigner({ key: gw.config.JWT_SECRET!, algorithm: 'HS256', iss: 'someone-else' })
  t.equal((await me(otherIssuer(claims))).statusCode, 401, 'signed by another issuer')
  const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin', iss: 'delivertrack' })).toString('base64url')}.`
  t.equal((await me(unsigned)).statusCode, 401, 'alg none')
})

t.test('a token that worked is refused once it expires (verified tokens are remembered only until their exp)', async (t) => {
  // The gateway's clock cannot be moved, so this mounts its authentication on an app of its own with a clock.
  const start = Date.now()
  let now = start
  const app = Fastify()
  installErrorHandling(app)
  await app.register(authentication, { secret: gw.config.JWT_SECRET!, issuer: 'delivertrack', auth: gw.auth, clock: () => now })
  app.get('/me', async (request) => principalOf(request))
  t.teardown(() => app.close())
  const whoAmI = (token: string) => app.inject({ method: 'GET', url: '/me', headers: bearer(token) })

  const customer = await gw.user('customer')
  const sign = createSigner({ key: gw.config.JWT_SECRET!, algorithm: 'HS256', iss: 'delivertrack' })
  const exp = Math.floor(start / 1000) + 60
  const token = sign({ sub: customer.id, role: 'customer', kind: 'user', email: customer.email, exp })
  const fresh = sign({ sub: customer.id, role: 'customer', kind: 'user', email: customer.email, exp, nonce: 'never used' })
  t.equal((await whoAmI(token)).statusCode, 200, 'valid now')
  now = exp * 1000 - 1
  t.equal((await whoAmI(token)).statusCode, 200, 'and up to its last millisecond (remembered)')

  now = exp * 1000
  const late = await whoAmI(token)
  t.equal(late.statusCode, 401, 'refused at its exp')
  t.match(late.json(), { code: 'unauthorized', message: /expired/ })
  const unseen = await whoAmI(fresh)
  t.equal(unseen.statusCode, 401, 'a token first seen after its exp is refused too')
  t.match(unseen.json(), { code: 'unauthorized', message: /expired/ })
})

t.test('ensureAdmin is idempotent, also when gateways start at the same moment', async (t) => {
  const email = unique('admin')
  t.equal(await gw.auth.ensureAdmin(email, 'first admin password'), 'created')
  t.equal(await gw.auth.ensureAdmin(email, 'another password!'), 'exists')
  t.equal(await gw.auth.ensureAdmin(email.toUpperCase(), 'another password!'), 'exists', 'whatever the case of the email')
  const login = await post('/auth/login', { email, password: 'first admin password' })
  t.equal(login.statusCode, 200, 'the first password is kept')
  t.equal(login.json().user.role, 'admin')

  const racing = unique('admin')
  const results = await Promise.all([1, 2, 3].map(() => gw.auth.ensureAdmin(racing, 'racing admin password')))
  t.same(results.filter((r) => r === 'created').length, 1, `one gateway created it (${results})`)
  const { rows } = await gw.pool.query('SELECT role FROM users WHERE lower(email) = $1', [racing])
  t.same(rows, [{ role: 'admin' }], 'exactly one admin account')
  t.equal((await post('/auth/login', { email: racing, password: 'racing admin password' })).statusCode, 200)
})
