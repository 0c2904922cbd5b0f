import { createHash } from 'node:crypto'
import t from 'tap'
import { memoryBus } from '../../app/bus.js'
import { serviceChecks } from '../../app/checks.js'
import { buildGateway } from '../../app/gateway.js'
import { redisStores } from '../../app/stores.js'
import { loadConfig } from '../../config/config.js'
import { createRedis } from '../cache/redis.js'
import { bearer, isolate, testGateway } from '../../app/testing/gateway.js'

// Idempotency-Key on POST, against the real Redis and PostgreSQL.

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url')
const parcel = (trackingNumber: string, recipient = 'Ann') => ({ trackingNumber, sender: { name: 'Shop' }, recipient: { name: recipient } })

t.test('Idempotency-Key on the real gateway', async (t) => {
  const gw = await testGateway(t)
  const { app } = gw
  const admin = await gw.user('admin')
  const countPackages = async (tn: string) =>
    (await gw.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM packages WHERE tracking_number = $1', [tn])).rows[0]!.n

  const post0 = (url: string, payload: object, token: string) => app.inject({ method: 'POST', url, headers: bearer(token), payload })
  const post = (key: string | undefined, payload: object, token = admin.token) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/packages',
      headers: { ...bearer(token), ...(key === undefined ? {} : { 'idempotency-key': key }) },
      payload,
    })

  t.test('same key and body replays the stored response and creates once', async (t) => {
    const first = await post('create-1', parcel('IDEMPOTENT0001'))
    t.equal(first.statusCode, 201, first.body)
    t.notOk(first.headers['idempotent-replay'], 'the first answer is not a replay')
    const second = await post('create-1', parcel('IDEMPOTENT0001'))
    t.equal(second.statusCode, 201)
    t.equal(second.headers['idempotent-replay'], 'true')
    t.match(second.headers['content-type'], /^application\/json/)
    t.same(second.json(), first.json(), 'the same body')
    t.ok(second.headers['x-request-id'])
    const third = await post('create-1', parcel('IDEMPOTENT0001'))
    t.equal(third.statusCode, 201)
    t.equal(third.headers['idempotent-replay'], 'true')
    t.equal(third.body, first.body)
    t.equal(await countPackages('IDEMPOTENT0001'), 1, 'one package in the database')
    const list = await app.inject({ method: 'GET', url: '/api/v1/packages?q=IDEMPOTENT0001', headers: bearer(admin.token) })
    t.equal(list.statusCode, 200)
    t.equal(list.json().items.filter((p: { trackingNumber: string }) => p.trackingNumber === 'IDEMPOTENT0001').length, 1)
  })

  t.test('the same body with its members in another order is the same request', async (t) => {
    const first = await post('order-1', { trackingNumber: 'IDEMPOTENT0009', sender: { name: 'Shop' }, recipient: { name: 'Ann' } })
    t.equal(first.statusCode, 201)
    const again = await post('order-1', { recipient: { name: 'Ann' }, sender: { name: 'Shop' }, trackingNumber: 'IDEMPOTENT0009' })
    t.equal(again.statusCode, 201, again.body)
    t.equal(again.headers['idempotent-replay'], 'true')
    t.equal(again.body, first.body)
  })

  t.test('same key with a different body is 422 idempotency_key_reused', async (t) => {
    const first = await post('create-2', parcel('IDEMPOTENT0002'))
    t.equal(first.statusCode, 201)
    const reused = await post('create-2', parcel('IDEMPOTENT0002', 'Bob'))
    t.equal(reused.statusCode, 422)
    const body = reused.json()
    t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
    t.equal(body.statusCode, 422)
    t.equal(body.error, 'Unprocessable Entity')
    t.equal(body.code, 'idempotency_key_reused')
    t.notOk(reused.headers['idempotent-replay'])
    const other = await post('create-2', parcel('IDEMPOTENT0003'))
    t.equal(other.statusCode, 422, 'another tracking number under the key is refused too')
    t.equal(await countPackages('IDEMPOTENT0003'), 0, 'nothing was created')
  })

  t.test('the key length is 1..200', async (t) => {
    const tooLong = await post('k'.repeat(201), parcel('IDEMPOTENT0004'))
    t.equal(tooLong.statusCode, 400)
    t.equal(tooLong.json().code, 'validation_failed')
    t.equal(tooLong.json().error, 'Bad Request')
    t.equal(await countPackages('IDEMPOTENT0004'), 0)
    const empty = await post('', parcel('IDEMPOTENT0004'))
    t.equal(empty.statusCode, 400)
    t.equal(empty.json().code, 'validation_failed')
    const longest = await post('k'.repeat(200), parcel('IDEMPOTENT0004'))
    t.equal(longest.statusCode, 201, '200 characters are fine')
    const replay = await post('k'.repeat(200), parcel('IDEMPOTENT0004'))
    t.equal(replay.headers['idempotent-replay'], 'true')
  })

  t.test('different users with the same key do not collide', async (t) => {
    const other = await gw.user('admin')
    const a = await post('shared-key', parcel('IDEMPOTENT0005'))
    t.equal(a.statusCode, 201)
    const b = await post('shared-key', parcel('IDEMPOTENT0006'), other.token)
    t.equal(b.statusCode, 201, 'not 422: the key is scoped to the caller')
    t.notOk(b.headers['idempotent-replay'])
    t.equal(b.json().trackingNumber, 'IDEMPOTENT0006')
    const c = await post('shared-key', parcel('IDEMPOTENT0005'), other.token)
    t.equal(c.statusCode, 422, "the other user's key now holds their own request")
    t.equal(await countPackages('IDEMPOTENT0005'), 1)
    t.equal(await countPackages('IDEMPOTENT0006'), 1)
  })

  t.test('a failed request is replayed with its failure', async (t) => {
    const plain = await post(undefined, parcel('IDEMPOTENT0007'))
    t.equal(plain.statusCode, 201)
    const dup = await post('dup-1', parcel('IDEMPOTENT0007'))
    t.equal(dup.statusCode, 409)
    t.equal(dup.json().code, 'conflict')
    const again = await post('dup-1', parcel('IDEMPOTENT0007'))
    t.equal(again.statusCode, 409)
    t.equal(again.headers['idempotent-replay'], 'true')
    t.same(again.json(), dup.json())
    t.equal(await countPackages('IDEMPOTENT0007'), 1)
  })

  t.test('concurrent identical requests create once', async (t) => {
    const results = await Promise.all(Array.from({ length: 8 }, () => post('race-1', parcel('IDEMPOTENT0008'))))
    const fresh = results.filter((r) => r.statusCode === 201 && r.headers['idempotent-replay'] !== 'true')
    t.equal(fresh.length, 1, 'exactly one request did the work')
    const created = fresh[0]!
    for (const r of results) {
      if (r === created) continue
      if (r.statusCode === 201) {
        t.equal(r.headers['idempotent-replay'], 'true')
        t.equal(r.body, created.body, 'a replay of the one creation')
      } else {
        t.equal(r.statusCode, 409, r.body)
        t.equal(r.json().code, 'conflict', 'in progress')
      }
    }
    t.equal(await countPackages('IDEMPOTENT0008'), 1, 'one package in the database')
    const after = await post('race-1', parcel('IDEMPOTENT0008'))
    t.equal(after.statusCode, 201)
    t.equal(after.headers['idempotent-replay'], 'true')
    t.equal(after.body, created.body)
  })

  t.test('register: a replay creates one user and returns the same tokens', async (t) => {
    const payload = { email: 'Idem.User@example.com', password: 'correct horse battery', name: 'Idem' }
    const headers = { 'idempotency-key': 'register-1' }
    const first = await app.inject({ method: 'POST', url: '/api/v1/auth/register', headers, payload })
    t.equal(first.statusCode, 201, first.body)
    const second = await app.inject({ method: 'POST', url: '/api/v1/auth/register', headers, payload })
    t.equal(second.statusCode, 201)
    t.equal(second.headers['idempotent-replay'], 'true')
    t.equal(second.body, first.body)
    const { rows } = await gw.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)', [payload.email])
    t.equal(rows[0]!.n, 1)
    // What somebody who can read Redis sees of it: neither the tokens nor the password, nor the key itself.
    const reader = createRedis({ url: gw.urls.redisUrl })
    await reader.connect()
    t.teardown(() => reader.disconnect())
    const stored = []
    for (const k of await reader.keys(`${gw.keyPrefix}idem:*`)) stored.push(`${k} ${await reader.get(k)}`)
    t.ok(stored.length > 0, 'the record is in Redis')
    const { accessToken, refreshToken } = first.json() as { accessToken: string; refreshToken: string }
    for (const secret of [accessToken, refreshToken, refreshToken.slice(-16), payload.password, 'register-1']) {
      t.notOk(stored.some((r) => r.includes(secret)), `Redis does not hold ${secret === payload.password ? 'the password' : secret === 'register-1' ? 'the key' : 'a token'}`)
    }
    // A plain hash of a short key could be guessed offline; the address is keyed by the gateway's secret.
    t.notOk(stored.some((r) => r.includes(sha256('register-1'))), 'the address is not a plain hash of the key')
    const stale = await app.inject({ method: 'POST', url: '/api/v1/auth/register', headers: { ...headers, authorization: 'Bearer an-old-token' }, payload })
    t.equal(stale.headers['idempotent-replay'], 'true', 'a bearer header that means nothing on this route does not make the retry another request')
    t.equal(stale.body, first.body)
    const guest = await app.inject({ method: 'POST', url: '/api/v1/auth/register', headers, payload: { ...payload, email: 'someone.else@example.com' }, remoteAddress: '203.0.113.9' })
    t.equal(guest.statusCode, 201, 'another client (IP) with the same key is not affected')
    t.notOk(guest.headers['idempotent-replay'])
  })

  t.test('two service clients behind one address asking /auth/token with the same key get their own tokens', async (t) => {
    const clients = []
    for (const name of ['Shop A', 'Shop B']) clients.push((await post0('/api/v1/service-clients', { name }, admin.token)).json() as { clientId: string; clientSecret: string })
    const ask = (c: { clientId: string; clientSecret: string }, key = 'token-1') =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`, 'idempotency-key': key },
        payload: 'grant_type=client_credentials',
      })
    const subject = (body: string) => JSON.parse(Buffer.from((JSON.parse(body) as { access_token: string }).access_token.split('.')[1]!, 'base64url').toString()).sub as string
    const a = await ask(clients[0]!)
    const b = await ask(clients[1]!)
    t.equal(a.statusCode, 200, a.body)
    t.equal(b.statusCode, 200, b.body)
    t.notOk(b.headers['idempotent-replay'], 'the second client is not handed the first one\'s answer')
    t.equal(subject(a.body), clients[0]!.clientId)
    t.equal(subject(b.body), clients[1]!.clientId)
    const again = await ask(clients[0]!)
    t.equal(again.headers['idempotent-replay'], 'true', 'the first client\'s retry is a replay')
    t.equal(again.body, a.body)
  })

  t.test('a record that was tampered with is refused, and the request is not run again', async (t) => {
    const first = await post('tamper-1', parcel('IDEMPOTENT0011'))
    t.equal(first.statusCode, 201)
    const reader = createRedis({ url: gw.urls.redisUrl })
    await reader.connect()
    t.teardown(() => reader.disconnect())
    const scope = `${gw.keyPrefix}idem:user:${admin.id}:`
    let changed = 0
    for (const k of await reader.keys(`${scope}*`)) {
      const record = JSON.parse((await reader.get(k))!) as { sealed?: string }
      if (record.sealed === undefined) continue
      // Flip one byte of the ciphertext of every record of this user's.
      const raw = Buffer.from(record.sealed, 'base64url')
      raw[raw.length - 1]! ^= 1
      await reader.set(k, JSON.stringify({ ...record, sealed: raw.toString('base64url') }), 'KEEPTTL')
      changed++
    }
    t.ok(changed > 0, 'the record was found')
    const retry = await post('tamper-1', parcel('IDEMPOTENT0011'))
    t.equal(retry.statusCode, 503, retry.body)
    t.equal(retry.json().code, 'unavailable')
    t.equal(await countPackages('IDEMPOTENT0011'), 1, 'still one package')
  })

  t.test('the header is ignored on non-POST methods', async (t) => {
    const created = await post(undefined, parcel('IDEMPOTENT0010'))
    t.equal(created.statusCode, 201)
    const get1 = await app.inject({ method: 'GET', url: '/api/v1/packages/IDEMPOTENT0010', headers: { ...bearer(admin.token), 'idempotency-key': 'get-1' } })
    const del = await app.inject({ method: 'DELETE', url: '/api/v1/packages/IDEMPOTENT0010', headers: { ...bearer(admin.token), 'idempotency-key': 'get-1' } })
    t.equal(get1.statusCode, 200)
    t.equal(del.statusCode, 204)
    t.notOk(del.headers['idempotent-replay'])
  })
})

t.test('without Redis an Idempotency-Key cannot be honoured: 503, plain POSTs still work', async (t) => {
  const iso = await isolate(t)
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PASSWORD_SCRYPT_COST: '1024',
    JWT_SECRET: 'test-secret-0123456789abcdef',
    DATABASE_URL: iso.urls.databaseUrl,
    REDIS_URL: 'redis://127.0.0.1:1',
  })
  const redis = createRedis({ url: config.REDIS_URL })
  redis.on('error', () => undefined)
  const bus = memoryBus(config, { log: { info: () => undefined, warn: () => undefined, error: () => undefined } })
  const { app, auth } = await buildGateway({ config, instanceId: 'test', pool: iso.pool, stores: redisStores(config, redis), bus, checks: serviceChecks({ pool: iso.pool, redis }) })
  t.teardown(async () => {
    await app.close()
    redis.disconnect()
  })
  await app.ready()

  const payload = { email: 'no.redis@example.com', password: 'correct horse battery', name: 'No Redis' }
  const withKey = await app.inject({ method: 'POST', url: '/api/v1/auth/register', headers: { 'idempotency-key': 'k-1' }, payload })
  t.equal(withKey.statusCode, 503)
  const body = withKey.json()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
  t.equal(body.statusCode, 503)
  t.equal(body.error, 'Service Unavailable')
  t.equal(body.code, 'unavailable')
  t.ok(withKey.headers['retry-after'], 'tells the client when to retry')
  const { rows } = await iso.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM users')
  t.equal(rows[0]!.n, 0, 'nothing was created')

  const plain = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload })
  t.equal(plain.statusCode, 201, plain.body)

  await auth.createUser({ email: 'admin.noredis@example.com', password: 'correct horse battery', name: 'A', role: 'admin' })
  const { accessToken } = await auth.login({ email: 'admin.noredis@example.com', password: 'correct horse battery' })
  const pkg = await app.inject({ method: 'POST', url: '/api/v1/packages', headers: bearer(accessToken), payload: parcel('NOREDIS00001') })
  t.equal(pkg.statusCode, 201, pkg.body)
  const pkgKeyed = await app.inject({ method: 'POST', url: '/api/v1/packages', headers: { ...bearer(accessToken), 'idempotency-key': 'k-2' }, payload: parcel('NOREDIS00002') })
  t.equal(pkgKeyed.statusCode, 503)
  t.equal(pkgKeyed.json().code, 'unavailable')
})
