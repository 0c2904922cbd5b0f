import t from 'tap'
import { bearer, testGateway } from '../app/testing/gateway.js'

// Admin endpoints only: no worker runs here, so nothing is ever sent to these URLs.
const env = { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' }

t.test('register, list, read deliveries and remove a webhook', async (t) => {
  const gw = await testGateway(t, env)
  const admin = await gw.user('admin')
  const created = await gw.app.inject({
    method: 'POST',
    url: '/api/v1/webhooks',
    headers: bearer(admin.token),
    payload: { url: 'http://127.0.0.1:9/hooks', events: ['package.status_changed', 'package.created'] },
  })
  t.equal(created.statusCode, 201)
  t.equal(created.headers['cache-control'], 'no-store')
  const hook = created.json()
  t.match(hook, { url: 'http://127.0.0.1:9/hooks', events: ['package.status_changed', 'package.created'], status: 'active', disabledAt: null, consecutiveFailures: 0 })
  t.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/, 'a generated secret, shown once')

  const own = await gw.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: bearer(admin.token), payload: { url: 'https://93.184.215.14/in', events: ['*'], secret: 'my-own-secret-0123456789' } })
  t.equal(own.statusCode, 201, 'a public address is accepted')
  t.equal(own.json().secret, 'my-own-secret-0123456789')

  const list = await gw.app.inject({ method: 'GET', url: '/api/v1/webhooks?limit=1', headers: bearer(admin.token) })
  t.equal(list.statusCode, 200)
  t.equal(list.json().items.length, 1)
  t.notOk('secret' in list.json().items[0], 'secrets are never listed')
  const rest = await gw.app.inject({ method: 'GET', url: `/api/v1/webhooks?limit=5&cursor=${list.json().nextCursor}`, headers: bearer(admin.token) })
  t.same([...list.json().items, ...rest.json().items].map((h: { id: string }) => h.id).sort(), [hook.id, own.json().id].sort())
  t.equal(rest.json().nextCursor, null)

  const deliveries = await gw.app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: bearer(admin.token) })
  t.same(deliveries.json(), { items: [], nextCursor: null })

  const del = await gw.app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${hook.id}`, headers: bearer(admin.token) })
  t.equal(del.statusCode, 204)
  const again = await gw.app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${hook.id}`, headers: bearer(admin.token) })
  t.equal(again.statusCode, 404)
  t.equal(again.json().code, 'not_found')
  const gone = await gw.app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: bearer(admin.token) })
  t.equal(gone.statusCode, 404)
})

t.test('private, loopback and link-local addresses are refused unless allowed', async (t) => {
  const gw = await testGateway(t, env)
  const admin = await gw.user('admin')
  const post = (url: string) => gw.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: bearer(admin.token), payload: { url, events: ['*'] } })
  for (const url of [
    'http://10.0.0.5/hook',
    'http://192.168.1.20:8080/hook',
    'http://172.16.3.4/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://localhost:3000/hook',
    'http://127.0.0.2/hook',
    'http://[::1]:8080/hook',
    'http://[::ffff:10.0.0.1]/hook',
    'http://[fe80::1]/hook',
    'http://0.0.0.0/hook',
    'http://100.64.0.1/hook',
  ]) {
    const res = await post(url)
    t.equal(res.statusCode, 400, url)
    t.match(res.json(), { code: 'validation_failed', details: [{ path: '/url' }] }, url)
  }
  for (const url of ['ftp://93.184.215.14/x', 'not a url', 'http://user:pw@93.184.215.14/x']) {
    t.equal((await post(url)).statusCode, 400, url)
  }
  t.equal((await post('http://127.0.0.1:9/listed-in-WEBHOOK_ALLOWED_HOSTS')).statusCode, 201)
})

t.test('roles and validation', async (t) => {
  const gw = await testGateway(t, env)
  const admin = await gw.user('admin')
  const operator = await gw.user('operator')
  const customer = await gw.user('customer')
  const payload = { url: 'http://127.0.0.1:9/x', events: ['package.created'] }
  t.equal((await gw.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: bearer(operator.token), payload })).statusCode, 403)
  t.equal((await gw.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: bearer(operator.token) })).statusCode, 200, 'operators read')
  t.equal((await gw.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: bearer(customer.token) })).statusCode, 403)
  t.equal((await gw.app.inject({ method: 'GET', url: '/api/v1/webhooks' })).statusCode, 401)
  const bad = [
    { url: 'http://127.0.0.1:9/x', events: [] },
    { url: 'http://127.0.0.1:9/x', events: ['package.exploded'] },
    { url: 'http://127.0.0.1:9/x', events: ['*'], secret: 'short' },
  ]
  for (const p of bad) t.equal((await gw.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: bearer(admin.token), payload: p })).statusCode, 400, JSON.stringify(p))
  t.equal((await gw.app.inject({ method: 'GET', url: '/api/v1/webhooks/not-a-uuid/deliveries', headers: bearer(admin.token) })).statusCode, 400)
  t.equal((await gw.app.inject({ method: 'GET', url: '/api/v1/webhooks?cursor=bogus', headers: bearer(admin.token) })).statusCode, 400)
  const hook = (await gw.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: bearer(admin.token), payload })).json() as { id: string }
  const enable = (id: string, token?: string) => gw.app.inject({ method: 'POST', url: `/api/v1/webhooks/${id}/enable`, headers: token ? bearer(token) : {} })
  t.equal((await enable(hook.id, operator.token)).statusCode, 403, 'only admins re-enable')
  t.equal((await enable(hook.id)).statusCode, 401)
  const missing = await enable('00000000-0000-4000-8000-000000000000', admin.token)
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { statusCode: 404, code: 'not_found', message: 'webhook not found' })
  t.equal((await enable('not-a-uuid', admin.token)).statusCode, 400)
  t.match((await enable(hook.id, admin.token)).json(), { id: hook.id, status: 'active' }, 'an active endpoint stays active')
  const doc = (await gw.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, unknown> }
  t.ok(doc.paths['/api/v1/webhooks'] && doc.paths['/api/v1/webhooks/{id}/deliveries'] && doc.paths['/api/v1/webhooks/{id}/enable'], 'documented in OpenAPI')
})
