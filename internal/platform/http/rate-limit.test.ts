import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { bearer, testGateway } from '../../app/testing/gateway.js'

// Per-caller rate limits through the real Redis store (RATE_LIMIT_MAX=5 per minute).

const MAX = 5

function assertLimited(t: Test, res: LightMyRequestResponse) {
  t.equal(res.statusCode, 429, res.body)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
  t.equal(body.statusCode, 429)
  t.equal(body.error, 'Too Many Requests')
  t.equal(body.code, 'rate_limited')
  t.type(body.message, 'string')
  const retryAfter = Number(res.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after is 1..60 s (${res.headers['retry-after']})`)
  t.equal(res.headers['x-ratelimit-limit'], String(MAX))
  t.equal(res.headers['x-ratelimit-remaining'], '0')
  const reset = Number(res.headers['x-ratelimit-reset'])
  t.ok(Number.isInteger(reset) && reset >= 1 && reset <= 60, `x-ratelimit-reset is 1..60 s (${res.headers['x-ratelimit-reset']})`)
  t.ok(res.headers['x-request-id'], '429 carries x-request-id')
}

t.test('rate limits', async (t) => {
  const gw = await testGateway(t, { RATE_LIMIT_MAX: String(MAX) })
  const { app } = gw

  t.test('an authenticated user gets 5 requests a minute, then 429', async (t) => {
    const alice = await gw.user('customer')
    for (let i = 1; i <= MAX; i++) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(alice.token) })
      t.equal(res.statusCode, 200, `request ${i}`)
      t.equal(res.headers['x-ratelimit-limit'], String(MAX))
      t.equal(res.headers['x-ratelimit-remaining'], String(MAX - i))
      t.ok(res.headers['x-ratelimit-reset'])
    }
    assertLimited(t, await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(alice.token) }))

    const bob = await gw.user('customer')
    const other = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(bob.token) })
    t.equal(other.statusCode, 200, 'another user from the same IP has a bucket of their own')
    t.equal(other.headers['x-ratelimit-remaining'], String(MAX - 1))
    t.equal(other.json().id, bob.id)

    const guest = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'nobody@example.com', password: 'wrong password' } })
    t.equal(guest.statusCode, 401, 'a guest on the same IP is not charged for the users')
  })

  t.test('guests are limited per client IP', async (t) => {
    const login = (remoteAddress: string) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, payload: { email: 'nobody@example.com', password: 'wrong password' } })
    for (let i = 1; i <= MAX; i++) {
      const res = await login('198.51.100.7')
      t.equal(res.statusCode, 401, `guest request ${i}`)
      t.equal(res.headers['x-ratelimit-remaining'], String(MAX - i))
    }
    assertLimited(t, await login('198.51.100.7'))
    const elsewhere = await login('198.51.100.8')
    t.equal(elsewhere.statusCode, 401, 'another IP is not limited')
    t.equal(elsewhere.headers['x-ratelimit-remaining'], String(MAX - 1))
  })

  t.test('health checks are never limited', async (t) => {
    for (let i = 0; i < MAX * 3; i++) {
      const live = await app.inject({ method: 'GET', url: '/api/v1/health', remoteAddress: '198.51.100.9' })
      t.equal(live.statusCode, 200)
      const root = await app.inject({ method: 'GET', url: '/health', remoteAddress: '198.51.100.9' })
      t.equal(root.statusCode, 200)
    }
    const ready = await app.inject({ method: 'GET', url: '/api/v1/health/ready', remoteAddress: '198.51.100.9' })
    t.equal(ready.statusCode, 200)
    t.notOk(ready.headers['x-ratelimit-limit'], 'no rate-limit headers on health')
  })
})

t.test('the public tracking view has its own, stricter per-IP limit', async (t) => {
  const gw = await testGateway(t, { RATE_LIMIT_MAX: '100', RATE_LIMIT_TRACK_MAX: '3' })
  const track = (remoteAddress: string) => gw.app.inject({ method: 'GET', url: '/api/v1/track/UNKNOWN00001', remoteAddress })
  for (let i = 1; i <= 3; i++) {
    const res = await track('192.0.2.1')
    t.equal(res.statusCode, 404, `lookup ${i}`)
    t.equal(res.headers['x-ratelimit-limit'], '3')
  }
  const limited = await track('192.0.2.1')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'rate_limited')
  t.ok(limited.headers['retry-after'])
  t.equal((await track('192.0.2.2')).statusCode, 404, 'another IP still gets answers')
  const login = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '192.0.2.1', payload: { email: 'nobody@example.com', password: 'wrong password' } })
  t.equal(login.statusCode, 401, 'the general limit of that IP is untouched')
})
