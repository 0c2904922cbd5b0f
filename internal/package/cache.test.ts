import { once } from 'node:events'
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createRedis, type Redis } from '../platform/cache/redis.js'
import { testGateway, type TestGateway, type TestLike } from '../app/testing/gateway.js'
import { api } from './fixtures.test.js'

/** A second gateway on the same isolated database, talking to Redis through `redis`. */
async function sibling(t: TestLike, gw: TestGateway, redis: Redis): Promise<TestGateway> {
  t.teardown(() => redis.disconnect())
  return testGateway(t, {}, { shared: { schema: gw.schema, pool: gw.pool, keyPrefix: gw.keyPrefix, urls: gw.urls, redis } })
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/**
 * A TCP relay to Redis that the test can cut and restore, like a network partition,
 * and that can hold back the commands a predicate picks (a slow packet) until released.
 */
function relay(targetPort: number) {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0
  let holdIf: ((chunk: string) => boolean) | undefined
  const held: Array<() => void> = []
  const track = (s: Socket) => {
    sockets.add(s)
    s.on('error', () => undefined).on('close', () => sockets.delete(s))
  }
  return {
    get port() {
      return port
    },
    async start() {
      server = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1')
        track(client)
        track(upstream)
        client.on('data', (chunk) => {
          // Once one chunk is held, later ones queue behind it: Redis sees them in order.
          if (held.length > 0 || holdIf?.(chunk.toString('latin1'))) held.push(() => upstream.write(chunk))
          else upstream.write(chunk)
        })
        upstream.pipe(client)
      })
      server.listen(port, '127.0.0.1')
      await once(server, 'listening')
      port = (server.address() as AddressInfo).port
    },
    hold(predicate: (chunk: string) => boolean) {
      holdIf = predicate
    },
    get holding() {
      return held.length
    },
    release() {
      holdIf = undefined
      for (const send of held.splice(0)) send()
    },
    async stop() {
      if (!server) return
      const closed = once(server, 'close')
      server.close()
      for (const s of sockets) s.destroy()
      await closed
      server = undefined
    },
  }
}

/** Waits (bounded) for a condition the system reaches on its own, e.g. a reconnect. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`)
    await sleep(25)
  }
}

t.test('cache-aside reads', async (t) => {
  const gw = await testGateway(t)
  const api_ = api(gw)
  const { call, get } = api_
  // A read while a write's invalidation is still on its way to Redis goes to the
  // database and leaves the cache alone; these tests read once it has landed.
  const settled = () => eventually('the invalidation', () => gw.packages.cache.pendingInvalidations === 0)
  const create: typeof api_.create = async (...args) => {
    const pkg = await api_.create(...args)
    await settled()
    return pkg
  }
  const status: typeof api_.status = async (...args) => {
    const res = await api_.status(...args)
    await settled()
    return res
  }
  const admin = await gw.user('admin')

  t.test('a read fills pkg:<TN> with a TTL, and the next read is a hit', async (t) => {
    const pkg = await create(admin.token)
    const key = `pkg:${pkg.trackingNumber}`
    t.equal(await gw.redis.exists(key), 0, 'nothing cached before the first read')
    await get(admin.token, pkg.trackingNumber)
    t.equal(await gw.redis.exists(key), 1, 'cached after the read')
    const ttl = await gw.redis.ttl(key)
    t.ok(ttl > 0 && ttl <= gw.config.CACHE_TTL_S, `expires (ttl ${ttl})`)
    t.match(JSON.parse((await gw.redis.get(key))!), { id: pkg.id, status: 'pending', version: 1 })
    const hits = gw.cacheCounters.hits
    const again = await get(admin.token, pkg.trackingNumber.toLowerCase())
    t.equal(gw.cacheCounters.hits, hits + 1, 'the second read is served from the cache')
    t.same(again, pkg, 'and is identical (dates revived, nothing lost)')
  })

  t.test('a package with every field survives the round trip through the cache', async (t) => {
    const driver = await gw.user('driver')
    const pkg = await create(admin.token, {
      description: 'everything',
      weightGrams: 2500,
      sender: { name: 'S', address: 'A 1' },
      recipient: { name: 'R', address: 'B 2', email: 'r@example.com', phone: '+1 555 0100' },
      origin: { lat: 1.25, lng: -2.5, address: 'here' },
      destination: { lat: -3.75, lng: 4.125 },
      estimatedDelivery: '2030-02-03T04:05:06.789Z',
      driverId: driver.id,
    })
    await status(admin.token, pkg.trackingNumber, { status: 'in_transit', location: { lat: 5.5, lng: 6.5 } })
    const fromDb = await get(admin.token, pkg.trackingNumber)
    const hits = gw.cacheCounters.hits
    const fromCache = await get(admin.token, pkg.trackingNumber)
    t.equal(gw.cacheCounters.hits, hits + 1, 'served from the cache')
    t.same(fromCache, fromDb, 'identical to the database read')
    t.ok(fromCache.lastLocation, 'lastLocation included')
  })

  t.test('writes invalidate: reads never return an older state', async (t) => {
    const driver = await gw.user('driver')
    const pkg = await create(admin.token)
    const tn = pkg.trackingNumber
    const steps: Array<[string, () => Promise<unknown>, (p: { status: string; version: number; description?: string; driverId?: string }) => boolean]> = [
      ['info_received', () => status(admin.token, tn, 'info_received'), (p) => p.status === 'info_received'],
      ['in_transit', () => status(admin.token, tn, 'in_transit'), (p) => p.status === 'in_transit'],
      ['patch', () => call('PATCH', `/packages/${tn}`, { token: admin.token, payload: { description: 'now described' } }), (p) => p.description === 'now described'],
      ['assign', () => call('POST', `/packages/${tn}/assignment`, { token: admin.token, payload: { driverId: driver.id } }), (p) => p.driverId === driver.id],
      ['checkpoint', () => status(admin.token, tn, 'in_transit'), (p) => p.version === 6],
      ['out_for_delivery', () => status(admin.token, tn, 'out_for_delivery'), (p) => p.status === 'out_for_delivery'],
      ['delivered', () => status(admin.token, tn, 'delivered'), (p) => p.status === 'delivered'],
    ]
    for (const [what, write, fresh] of steps) {
      await get(admin.token, tn) // make sure the previous state is cached
      await call('GET', `/track/${tn}`)
      await write()
      const read = await get(admin.token, tn)
      t.ok(fresh(read), `${what}: GET shows the write (version ${read.version})`)
      const view = (await call('GET', `/track/${tn}`)).json()
      t.equal(view.status, read.status, `${what}: /track shows it too`)
    }
    t.equal((await call('GET', `/packages/${tn}`, { token: driver.token })).statusCode, 200, 'the assignment reached the cached copy the driver reads')
  })

  t.test('/track fills track:<TN> and a write drops both entries', async (t) => {
    const pkg = await create(admin.token)
    const tn = pkg.trackingNumber
    await get(admin.token, tn)
    const view = await call('GET', `/track/${tn}`)
    t.equal(await gw.redis.exists(`track:${tn}`), 1, 'the public view is cached')
    t.equal(await gw.redis.get(`track:${tn}`), `${view.headers.etag}\n${view.body}`, 'as its etag and the very body served')
    await status(admin.token, tn, 'in_transit')
    t.equal(await gw.redis.exists(`pkg:${tn}`, `track:${tn}`), 0, 'both entries are gone after the write')
  })

  t.test('the cache does not bypass authorization', async (t) => {
    const customer = await gw.user('customer')
    const pkg = await create(admin.token)
    await get(admin.token, pkg.trackingNumber)
    t.equal(await gw.redis.exists(`pkg:${pkg.trackingNumber}`), 1)
    t.equal((await call('GET', `/packages/${pkg.trackingNumber}`, { token: customer.token })).statusCode, 404, 'a cached package is still 404 for a stranger')
  })

  t.test('a corrupt or foreign cache entry does not break reads', async (t) => {
    const pkg = await create(admin.token)
    await gw.redis.set(`pkg:${pkg.trackingNumber}`, 'not json', 'EX', 60)
    const res = await call('GET', `/packages/${pkg.trackingNumber}`, { token: admin.token })
    t.equal(res.statusCode, 200, res.body)
    t.equal(res.json().id, pkg.id)
    for (const foreign of ['{"broken"', '{"etag":"\\"x\\"","view":{}}', '"x"\nnot json']) {
      await gw.redis.set(`track:${pkg.trackingNumber}`, foreign, 'EX', 60)
      const track = await call('GET', `/track/${pkg.trackingNumber}`)
      t.equal(track.statusCode, 200, `track: ${JSON.stringify(foreign)} is a miss`)
      t.equal(track.json().trackingNumber, pkg.trackingNumber, 'and the view comes from the database')
    }
  })
})

t.test('reads and writes keep working without Redis', async (t) => {
  const gw = await testGateway(t)
  const { create } = api(gw)
  const admin = await gw.user('admin')
  const pkg = await create(admin.token, { description: 'no cache today' })
  const dead = createRedis({ url: `redis://127.0.0.1:${await closedPort()}`, keyPrefix: gw.keyPrefix })
  dead.on('error', () => undefined)
  const cacheless = await sibling(t, gw, dead)
  const { call, get } = api(cacheless)

  t.match(await get(admin.token, pkg.trackingNumber), { id: pkg.id, description: 'no cache today' }, 'GET /packages/:tn is 200')
  const view = await call('GET', `/track/${pkg.trackingNumber}`)
  t.equal(view.statusCode, 200, 'GET /track/:tn is 200')
  t.equal(view.json().status, 'pending')
  t.equal(view.headers['cache-control'], `public, max-age=${gw.config.TRACK_MAX_AGE_S}`)

  const moved = await call('POST', `/packages/${pkg.trackingNumber}/status`, { token: admin.token, payload: { status: 'in_transit' } })
  t.equal(moved.statusCode, 200, 'a status update succeeds')
  t.equal(moved.json().version, 2)
  t.equal((await get(admin.token, pkg.trackingNumber)).status, 'in_transit', 'and the next read shows it')
  t.equal((await call('GET', `/track/${pkg.trackingNumber}`)).json().status, 'in_transit')
  t.equal((await call('GET', '/packages', { token: admin.token })).statusCode, 200, 'lists work')

  const ready = await call('GET', '/health/ready')
  t.equal(ready.statusCode, 200, 'readiness is 200')
  t.match(ready.json(), { status: 'degraded', checks: { postgres: { ok: true }, redis: { ok: false } } })
})

t.test('a write while Redis is unreachable never leaves a stale entry behind', async (t) => {
  const gw = await testGateway(t)
  const { create } = api(gw)
  const admin = await gw.user('admin')
  const redisPort = Number(new URL(gw.urls.redisUrl).port || 6379)
  const link = relay(redisPort)
  await link.start()
  t.teardown(() => link.stop())
  const redis = createRedis({ url: `redis://127.0.0.1:${link.port}`, keyPrefix: gw.keyPrefix })
  redis.on('error', () => undefined)
  await redis.connect()
  const flaky = await sibling(t, gw, redis)
  const { get, status } = api(flaky)
  const pkg = await create(admin.token)
  const tn = pkg.trackingNumber

  await get(admin.token, tn)
  // Asked on the sibling's own connection, so the answer comes after its fire-and-forget SET.
  t.equal(await redis.exists(`pkg:${tn}`), 1, 'cached through the relay')

  const lost = once(redis, 'close')
  await link.stop()
  await lost
  const moved = await status(admin.token, tn, 'in_transit')
  t.equal(moved.status, 'in_transit', 'the write succeeds without Redis')
  t.equal(flaky.packages.cache.pendingInvalidations, 1, 'the failed invalidation is remembered')
  t.match(JSON.parse((await gw.redis.get(`pkg:${tn}`))!), { status: 'pending' }, 'Redis still holds the old entry')
  t.equal((await get(admin.token, tn)).status, 'in_transit', 'reads skip the stale entry')

  await link.start()
  await eventually('the reconnect', () => redis.status === 'ready')
  t.equal((await get(admin.token, tn)).status, 'in_transit', 'still fresh right after the reconnect')
  await eventually('the retried invalidation', () => flaky.packages.cache.pendingInvalidations === 0)
  t.equal(await redis.exists(`pkg:${tn}`), 0, 'the stale entry was deleted')
  t.equal((await get(admin.token, tn)).status, 'in_transit')
  t.match(JSON.parse((await redis.get(`pkg:${tn}`))!), { status: 'in_transit', version: 2 }, 'and the cache refilled with the current state')
})

t.test('a cache fill that loses the race with another gateway\'s write is discarded', async (t) => {
  // Gateway A reads through a relay that delays its cache fill; gateway B (same
  // database, same Redis) commits a write in between. A must not put the old state back.
  const gw = await testGateway(t)
  const { status, get } = api(gw)
  const admin = await gw.user('admin')
  const link = relay(Number(new URL(gw.urls.redisUrl).port || 6379))
  await link.start()
  t.teardown(() => link.stop())
  const redis = createRedis({ url: `redis://127.0.0.1:${link.port}`, keyPrefix: gw.keyPrefix })
  redis.on('error', () => undefined)
  await redis.connect()
  const a = api(await sibling(t, gw, redis))

  for (const route of ['package', 'track'] as const) {
    const pkg = await api(gw).create(admin.token)
    const tn = pkg.trackingNumber
    const key = route === 'package' ? `pkg:${tn}` : `track:${tn}`
    // Hold every command on the entry except the plain lookup: that is the fill.
    link.hold((chunk) => chunk.includes(key) && !/^\*2\r\n\$3\r\nget\r\n/i.test(chunk))
    const read = route === 'package' ? await a.call('GET', `/packages/${tn}`, { token: admin.token }) : await a.call('GET', `/track/${tn}`)
    t.equal(read.json().status, 'pending', `${route}: A read the state before the write`)
    await eventually('the fill to reach the relay', () => link.holding > 0)

    await status(admin.token, tn, 'in_transit') // through gateway B
    await eventually("B's invalidation", () => gw.packages.cache.pendingInvalidations === 0)
    link.release()
    await redis.ping() // answered after the released fill

    const viaB = route === 'package' ? (await get(admin.token, tn)).status : (await gw.app.inject({ url: `/api/v1/track/${tn}` })).json().status
    t.equal(viaB, 'in_transit', `${route}: B does not read the old state back`)
    const viaA = route === 'package' ? (await a.get(admin.token, tn)).status : (await a.call('GET', `/track/${tn}`)).json().status
    t.equal(viaA, 'in_transit', `${route}: neither does A`)
  }
})

t.test('the invalidations of one moment reach Redis as one script', async (t) => {
  const gw = await testGateway(t)
  const { create, status } = api(gw)
  const admin = await gw.user('admin')
  const pkgs = await Promise.all(Array.from({ length: 5 }, () => create(admin.token)))
  await eventually('the creations\u2019 invalidations', () => gw.packages.cache.pendingInvalidations === 0)
  for (const p of pkgs) await api(gw).get(admin.token, p.trackingNumber)
  t.equal(await gw.redis.exists(...pkgs.map((p) => `pkg:${p.trackingNumber}`)), 5, 'all five cached')

  // Watch the commands the gateway sends (MONITOR on a connection of its own).
  const monitor = await gw.redis.monitor()
  t.teardown(() => monitor.disconnect())
  const scripts: string[][] = []
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args[0]?.toLowerCase() === 'eval' && args.some((a) => a.startsWith(`${gw.keyPrefix}pkg-gen:`))) scripts.push(args)
  })
  await Promise.all(pkgs.map((p) => status(admin.token, p.trackingNumber, 'in_transit')))
  await eventually('the invalidations', () => gw.packages.cache.pendingInvalidations === 0)
  await gw.redis.ping()
  const named = scripts.flatMap((args) => args.filter((a) => a.startsWith(`${gw.keyPrefix}pkg-gen:`)))
  t.same(named.sort(), pkgs.map((p) => `${gw.keyPrefix}pkg-gen:${p.trackingNumber}`).sort(), 'each number invalidated once')
  t.ok(scripts.length < 5, `five status changes at once, ${scripts.length} invalidation script(s)`)
  t.equal(await gw.redis.exists(...pkgs.map((p) => `pkg:${p.trackingNumber}`)), 0, 'every entry dropped')
})
