import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { bearer, testGateway } from '../app/testing/gateway.js'
import { installErrorHandling } from '../platform/http/errors.js'
import { ACCOUNT_RECHECK_MS, authentication, principalOf } from './authenticate.js'

// F5: an access token outlives its account. Deleting the row (as an admin endpoint
// or an operator's SQL would) must turn every request with it into a 401, not a 500.
const gw = await testGateway(t)
const admin = await gw.user('admin')
const created = await gw.app.inject({ method: 'POST', url: '/api/v1/packages', headers: bearer(admin.token), payload: { sender: { name: 'Shop' }, recipient: { name: 'Ann' } } })
const tn = created.json<{ trackingNumber: string }>().trackingNumber
const deleteUser = (id: string) => gw.pool.query('DELETE FROM users WHERE id = $1', [id])

type Call = [name: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object]
const CUSTOMER_ROUTES: Call[] = [
  ['GET /auth/me', 'GET', '/auth/me'],
  ['POST /me/trackings (a known number)', 'POST', '/me/trackings', { trackingNumber: tn }],
  ['POST /me/trackings (a carrier number)', 'POST', '/me/trackings', { trackingNumber: 'CARRIER000123', carrier: 'dhl' }],
  ['GET /me/trackings', 'GET', '/me/trackings'],
  ['DELETE /me/trackings/:tn', 'DELETE', `/me/trackings/${tn}`],
  ['GET /packages', 'GET', '/packages'],
  ['GET /packages/:tn', 'GET', `/packages/${tn}`],
]
const ADMIN_ROUTES: Call[] = [
  ['GET /auth/me', 'GET', '/auth/me'],
  ['POST /users', 'POST', '/users', { email: 'new.staff@example.com', password: 'correct horse battery', name: 'Staff', role: 'operator' }],
  ['POST /packages', 'POST', '/packages', { sender: { name: 'Shop' }, recipient: { name: 'Bob' } }],
  ['GET /packages', 'GET', '/packages'],
]

async function expectAllRefused(t: Test, token: string, calls: Call[]) {
  for (const [name, method, url, payload] of calls) {
    const res = await gw.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) })
    t.equal(res.statusCode, 401, `${name}: ${res.body}`)
    t.match(res.json(), { statusCode: 401, code: 'unauthorized', message: /no longer exists/ }, name)
  }
}

t.test('a deleted customer\'s token is 401 on every route', async (t) => {
  const customer = await gw.user('customer')
  const { refreshToken } = await gw.auth.login({ email: customer.email, password: customer.password })
  await deleteUser(customer.id)
  await expectAllRefused(t, customer.token, CUSTOMER_ROUTES)
  const refresh = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } })
  t.equal(refresh.statusCode, 401, 'and the session cannot be refreshed')
})

t.test('right after the token was last used (the account not yet rechecked), writes that need the account are 401 too', async (t) => {
  const customer = await gw.user('customer')
  const before = await gw.app.inject({ method: 'GET', url: '/api/v1/me/trackings', headers: bearer(customer.token) })
  t.equal(before.statusCode, 200, 'the token worked a moment ago')
  await deleteUser(customer.id)
  await expectAllRefused(t, customer.token, CUSTOMER_ROUTES.filter(([name]) => name.startsWith('POST') || name === 'GET /auth/me'))
})

t.test('a deleted admin\'s token no longer acts as an admin', async (t) => {
  const gone = await gw.user('admin')
  await deleteUser(gone.id)
  await expectAllRefused(t, gone.token, ADMIN_ROUTES)
})

t.test('another gateway notices the deletion within the recheck time', async (t) => {
  // A gateway that did not delete the account learns of it when it checks again: mounted here with a clock of its own.
  let now = Date.now()
  const app = Fastify()
  installErrorHandling(app)
  await app.register(authentication, { secret: gw.config.JWT_SECRET!, issuer: 'delivertrack', auth: gw.auth, clock: () => now })
  app.get('/me', async (request) => principalOf(request))
  t.teardown(() => app.close())
  const customer = await gw.user('customer')
  const whoAmI = () => app.inject({ method: 'GET', url: '/me', headers: bearer(customer.token) })
  t.equal((await whoAmI()).statusCode, 200)
  await deleteUser(customer.id)
  now += ACCOUNT_RECHECK_MS - 1
  t.equal((await whoAmI()).statusCode, 200, 'believed to exist until the recheck time has passed')
  now += ACCOUNT_RECHECK_MS
  const late = await whoAmI()
  t.equal(late.statusCode, 401, 'refused once the account is checked again')
  t.match(late.json(), { code: 'unauthorized', message: /no longer exists/ })
})
