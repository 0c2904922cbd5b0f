import t from 'tap'
import { bearer, testGateway } from '../app/testing/gateway.js'

t.test('admins change and delete users', async (t) => {
  const gw = await testGateway(t)
  const admin = await gw.user('admin')
  const call = (method: 'PATCH' | 'DELETE', id: string, token: string, payload?: object) =>
    gw.app.inject({ method, url: `/api/v1/users/${id}`, headers: bearer(token), ...(payload ? { payload } : {}) })

  t.test('PATCH changes the role and the name', async (t) => {
    const user = await gw.user('operator')
    const res = await call('PATCH', user.id, admin.token, { role: 'customer', name: '  Demoted Dan ' })
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json(), { id: user.id, email: user.email, name: 'Demoted Dan', role: 'customer' })
    const login = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.email, password: user.password } })
    t.equal(login.json().user.role, 'customer', 'new tokens carry the new role')
  })

  t.test('a token issued before a role change is refused on REST, not honoured with the old role', async (t) => {
    const user = await gw.user('operator')
    t.equal((await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(user.token) })).statusCode, 200, 'an operator reads the stats')
    t.equal((await call('PATCH', user.id, admin.token, { role: 'customer' })).statusCode, 200)
    const stats = await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(user.token) })
    t.equal(stats.statusCode, 401, 'at once: the operator token no longer reads the stats')
    t.match(stats.json(), { code: 'unauthorized', message: /role has changed/ })
    const login = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.email, password: user.password } })
    const me = await gw.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(login.json().accessToken) })
    t.equal(me.json().role, 'customer', 'signing in again gives a token that works, with the new role')
  })

  t.test('bad requests', async (t) => {
    const user = await gw.user('customer')
    for (const [payload, path] of [[{}, ''], [{ role: 'root' }, '/role'], [{ name: '   ' }, '/name'], [{ email: 'x@example.com' }, '']] as const) {
      const res = await call('PATCH', user.id, admin.token, payload)
      t.equal(res.statusCode, 400, JSON.stringify(payload))
      t.equal(res.json().code, 'validation_failed')
      if (path) t.match(res.json().details, [{ path }])
    }
    t.equal((await call('PATCH', 'not-a-uuid', admin.token, { name: 'x' })).statusCode, 400)
    const unknown = '00000000-0000-4000-8000-000000000000'
    t.match((await call('PATCH', unknown, admin.token, { name: 'x' })).json(), { statusCode: 404, code: 'not_found' })
    t.match((await call('DELETE', unknown, admin.token)).json(), { statusCode: 404, code: 'not_found' })
    t.match((await call('PATCH', admin.id, admin.token, { role: 'operator' })).json(), { statusCode: 409, code: 'conflict' }, 'an admin cannot demote themselves')
    t.match((await call('DELETE', admin.id, admin.token)).json(), { statusCode: 409, code: 'conflict' }, 'nor delete themselves')
    for (const role of ['operator', 'customer', 'driver'] as const) {
      const other = await gw.user(role)
      t.equal((await call('PATCH', user.id, other.token, { name: 'x' })).statusCode, 403, `${role} PATCH`)
      t.equal((await call('DELETE', user.id, other.token)).statusCode, 403, `${role} DELETE`)
    }
  })

  t.test('DELETE removes the account and revokes its refresh tokens', async (t) => {
    const user = await gw.user('customer')
    const session = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.email, password: user.password } })
    const res = await call('DELETE', user.id, admin.token)
    t.equal(res.statusCode, 204)
    t.equal(res.body, '')
    const refreshed = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.json().refreshToken } })
    t.equal(refreshed.statusCode, 401, 'the refresh token no longer works')
    const login = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.email, password: user.password } })
    t.equal(login.statusCode, 401, 'nor the password')
    t.equal((await call('DELETE', user.id, admin.token)).statusCode, 404, 'deleting again: 404')
  })
})
