import t, { type Test } from 'tap'
import type { Redis } from 'ioredis'
import type pg from 'pg'
import { memoryBus } from '../../app/bus.js'
import { serviceChecks } from '../../app/checks.js'
import { buildGateway } from '../../app/gateway.js'
import { redisStores } from '../../app/stores.js'
import { loadConfig } from '../../config/config.js'
import { createRedis } from '../cache/redis.js'
import { createPool } from '../db/postgres.js'
import { isolate, testGateway } from '../../app/testing/gateway.js'
import { tcpProxy } from '../testing/tcp-proxy.js'

// Liveness and readiness with every dependency up, Redis away, and PostgreSQL away.

const CLOSED_PG = 'postgres://postgres@127.0.0.1:1/postgres'
const CLOSED_REDIS = 'redis://127.0.0.1:1'

async function gatewayWith(t: Test, pool: pg.Pool, redis: Redis) {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: 'test-secret-0123456789abcdef' })
  const bus = memoryBus(config, { log: { info: () => undefined, warn: () => undefined, error: () => undefined } })
  const { app } = await buildGateway({ config, instanceId: 'test', pool, stores: redisStores(config, redis), bus, checks: serviceChecks({ pool, redis }) })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

function unreachableRedis(t: Test): Redis {
  const redis = createRedis({ url: CLOSED_REDIS })
  redis.on('error', () => undefined)
  t.teardown(() => redis.disconnect())
  return redis
}

t.test('everything up', async (t) => {
  const { app } = await testGateway(t)
  for (const url of ['/health', '/api/v1/health']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, url)
    t.same(res.json(), { status: 'ok' })
    t.match(res.headers['content-type'], /^application\/json/)
    t.ok(res.headers['x-request-id'])
  }
  const ready = await app.inject({ method: 'GET', url: '/api/v1/health/ready' })
  t.equal(ready.statusCode, 200)
  const body = ready.json()
  t.equal(body.status, 'ok')
  t.ok(body.checks.postgres && body.checks.redis, 'postgres and redis are checked')
  for (const name of Object.keys(body.checks)) {
    t.equal(body.checks[name].ok, true, `${name} ok`)
    t.type(body.checks[name].latencyMs, 'number')
    t.ok(body.checks[name].latencyMs >= 0)
    t.notOk(body.checks[name].error)
  }
  const rootReady = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(rootReady.statusCode, 200)
  t.equal(rootReady.json().status, 'ok')
})

t.test('with the message bus: rabbitmq is checked too', async (t) => {
  const { app } = await testGateway(t, {}, { bus: true })
  const res = await app.inject({ method: 'GET', url: '/api/v1/health/ready' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status, 'ok')
  t.same(Object.keys(body.checks).sort(), ['postgres', 'rabbitmq', 'redis'])
  t.equal(body.checks.rabbitmq.ok, true)
  t.type(body.checks.rabbitmq.latencyMs, 'number')
})

t.test('RabbitMQ unreachable: degraded but ready (200)', async (t) => {
  const { app } = await testGateway(t, {}, { bus: true, amqpUrl: 'amqp://guest:guest@127.0.0.1:1' })
  const res = await app.inject({ method: 'GET', url: '/api/v1/health/ready' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status, 'degraded')
  t.equal(body.checks.rabbitmq.ok, false)
  t.equal(body.checks.postgres.ok, true)
  t.equal(body.checks.redis.ok, true)
})

t.test('readiness is public: no token needed', async (t) => {
  const { app } = await testGateway(t)
  const res = await app.inject({ method: 'GET', url: '/api/v1/health/ready', headers: { authorization: 'Bearer not-a-token' } })
  t.equal(res.statusCode, 200, 'an invalid token is not even looked at')
})

t.test('Redis unreachable: degraded but ready (200)', async (t) => {
  const iso = await isolate(t)
  const app = await gatewayWith(t, iso.pool, unreachableRedis(t))
  const live = await app.inject({ method: 'GET', url: '/api/v1/health' })
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })
  const res = await app.inject({ method: 'GET', url: '/api/v1/health/ready' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status, 'degraded')
  t.equal(body.checks.postgres.ok, true)
  t.type(body.checks.postgres.latencyMs, 'number')
  t.equal(body.checks.redis.ok, false)
  t.type(body.checks.redis.latencyMs, 'number')
  t.type(body.checks.redis.error, 'string')
})

t.test('PostgreSQL unreachable: down (503)', async (t) => {
  const iso = await isolate(t)
  const pool = createPool({ url: CLOSED_PG, max: 1 })
  t.teardown(() => pool.end())
  const app = await gatewayWith(t, pool, iso.redis)
  const live = await app.inject({ method: 'GET', url: '/health' })
  t.equal(live.statusCode, 200, 'liveness touches nothing')
  t.same(live.json(), { status: 'ok' })
  const res = await app.inject({ method: 'GET', url: '/api/v1/health/ready' })
  t.equal(res.statusCode, 503)
  const body = res.json()
  t.equal(body.status, 'down')
  t.equal(body.checks.postgres.ok, false)
  t.type(body.checks.postgres.latencyMs, 'number')
  t.equal(body.checks.redis.ok, true)
  t.ok(res.headers['x-request-id'])
})

t.test('PostgreSQL pool ended: down (503)', async (t) => {
  const iso = await isolate(t)
  const pool = createPool({ url: iso.urls.databaseUrl, max: 1 })
  await pool.query('SELECT 1')
  await pool.end()
  const app = await gatewayWith(t, pool, iso.redis)
  const res = await app.inject({ method: 'GET', url: '/api/v1/health/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().status, 'down')
  t.equal(res.json().checks.postgres.ok, false)
})

t.test('both away: down (503), every check reported', async (t) => {
  const pool = createPool({ url: CLOSED_PG, max: 1 })
  t.teardown(() => pool.end())
  const app = await gatewayWith(t, pool, unreachableRedis(t))
  const res = await app.inject({ method: 'GET', url: '/api/v1/health/ready' })
  t.equal(res.statusCode, 503)
  const body = res.json()
  t.equal(body.status, 'down')
  t.equal(body.checks.postgres.ok, false)
  t.equal(body.checks.redis.ok, false)
  const live = await app.inject({ method: 'GET', url: '/api/v1/health' })
  t.equal(live.statusCode, 200)
})

t.test('PostgreSQL lost while running: requests answer 503 unavailable (retry-after), then are served again', async (t) => {
  const iso = await isolate(t)
  const proxy = await tcpProxy(t, iso.urls.databaseUrl, 5432)
  const pool = createPool({ url: proxy.url, schema: `${iso.schema},public`, max: 2 })
  t.teardown(() => pool.end())
  const app = await gatewayWith(t, pool, iso.redis)
  const track = () => app.inject({ method: 'GET', url: '/api/v1/track/NOSUCHPKG01' })
  const login = () => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'nobody@example.com', password: 'whatever-it-is' } })
  t.equal((await track()).statusCode, 404, 'before: an unknown number is 404')
  t.ok(proxy.connections > 0, 'the pool holds a connection through the proxy')

  proxy.cut()
  for (const [name, send] of [['a read', track], ['a sign-in', login]] as const) {
    const res = await send()
    t.equal(res.statusCode, 503, `${name} while PostgreSQL is away`)
    t.match(res.json(), { statusCode: 503, error: 'Service Unavailable', code: 'unavailable', message: /try again/ })
    t.notMatch(res.body, /ECONNREFUSED|5432|terminated/, 'no internals in the body')
    t.equal(res.headers['retry-after'], '5')
  }
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/health/ready' })).statusCode, 503, 'readiness says down')

  proxy.heal()
  t.equal((await track()).statusCode, 404, 'after: served again')
  t.equal((await login()).statusCode, 401, 'and sign-in answers again')
})
