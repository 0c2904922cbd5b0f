import t, { type Test } from 'tap'
import { api } from '../api/api.js'
import { packagesApi } from '../api/packages.js'
import type { AuthResult, Package, PackageEvent, TrackingEntry, User } from '../api/types.js'
import { FakeTimers, socketFactory } from '../live/fake-socket.js'
import { memorySessionStorage, type SessionState } from './session.js'
import { makeStore, signOut } from './store.js'

// The store end to end in Node: RTK Query over a scripted fetch, live events from a
// scripted socket. What a user would notice: lists change without refetching, the
// session survives expired tokens, and nothing of a previous user lingers.

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
let tokenN = 0
const jwt = (expInS = 900) => `${b64({ alg: 'HS256' })}.${b64({ exp: Math.floor(Date.now() / 1000) + expInS, n: ++tokenN })}.sig`
const json = (status: number, body?: unknown) => new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
const flush = () => new Promise((r) => setTimeout(r, 0))

const T0 = '2025-03-01T10:00:00.000Z'
const T1 = '2025-03-01T10:05:00.000Z'
const user: User = { id: '11111111-1111-4111-8111-111111111111', email: 'cora@example.com', name: 'Cora', role: 'customer' }
const pkg = (tn: string, over: Partial<Package> = {}): Package => ({ id: `id-${tn}`, trackingNumber: tn, status: 'pending', carrier: 'dt', sender: { name: 'S' }, recipient: { name: 'R' }, deliveryOption: 'standard', paymentStatus: 'not_required', version: 1, createdAt: T0, updatedAt: T0, view: 'full', ...over })
const entry = (tn: string): TrackingEntry => ({ trackingNumber: tn, label: null, addedAt: T0, package: pkg(tn) })
const statusEvent = (tn: string, seq: number, status: string): PackageEvent => ({ id: `${tn}-${seq}`, type: 'package.status_changed', trackingNumber: tn, seq, occurredAt: T1, recordedAt: T1, data: { status } })

type Handler = (req: Request, body: unknown) => Response | Promise<Response>

function setup(t: Test, session?: Partial<SessionState>) {
  const calls: string[] = []
  const routes = new Map<string, Handler>()
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init)
    const key = `${req.method} ${new URL(req.url).pathname.replace('/api/v1', '')}`
    calls.push(key)
    const body = req.method === 'POST' ? await req.json().catch(() => undefined) : undefined
    const handler = routes.get(key)
    return handler ? handler(req, body) : json(404, { statusCode: 404, error: 'Not Found', code: 'not_found', message: 'no such thing' })
  }) as typeof fetch
  const storage = memorySessionStorage(session ? { user, accessToken: jwt(), refreshToken: 'r0', endedBecause: null, ...session } : undefined)
  const sockets = socketFactory()
  const timers = new FakeTimers()
  const store = makeStore({ baseUrl: 'http://console.test/api/v1', fetchFn, storage, wsUrl: () => 'ws://console.test/api/v1/ws', connect: sockets.connect, socket: { timers: timers.api, random: () => 0 } })
  t.teardown(() => {
    store.dispatch(api.util.resetApiState())
    store.dispose()
  })
  store.env.live.start()
  sockets.last().open()
  const count = (key: string) => calls.filter((c) => c === key).length
  return { store, storage, sockets, timers, calls, count, route: (key: string, h: Handler) => routes.set(key, h) }
}

t.test('signing in persists the session, signs the socket in, and clears what a previous user left', async (t) => {
  const { store, storage, sockets, route } = setup(t)
  const result: AuthResult = { user, accessToken: jwt(), refreshToken: 'r1' }
  route('POST /auth/login', (_req, body) => ((body as { password: string }).password === 'right password' ? json(200, result) : json(401, { statusCode: 401, error: 'Unauthorized', code: 'unauthorized', message: 'wrong' })))
  route('GET /me/trackings', () => json(200, { items: [] }))

  const wrong = await store.dispatch(api.endpoints.login.initiate({ email: user.email, password: 'nope' }))
  t.match(wrong, { error: { status: 401, code: 'unauthorized' } }, 'errors carry the contract\'s status and code')
  t.equal(store.getState().session.user, null)

  await store.dispatch(api.endpoints.login.initiate({ email: user.email, password: 'right password' }))
  t.same(store.getState().session.user, user)
  t.equal(storage.saved?.refreshToken, 'r1', 'the refresh token survives a reload')
  t.same(sockets.last().ops('auth').map((m) => m.token), [result.accessToken], 'the live link signs in')

  await store.dispatch(packagesApi.endpoints.getTrackings.initiate())
  t.ok(packagesApi.endpoints.getTrackings.select()(store.getState()).data)
  await store.dispatch(signOut())
  await flush()
  t.equal(store.getState().session.user, null)
  t.equal(storage.saved, undefined, 'nothing stays in storage')
  t.equal(packagesApi.endpoints.getTrackings.select()(store.getState()).data, undefined, 'the cache is emptied')
})

t.test('the tracking list changes live, and refetches once after a reconnect', async (t) => {
  const { store, sockets, timers, count, route } = setup(t, {})
  route('GET /me/trackings', () => json(200, { items: [entry('DTAAAAAAAAAAA')] }))
  route('POST /me/trackings', (_req, body) => json(201, { ...entry((body as { trackingNumber: string }).trackingNumber), label: 'Shoes' }))
  route('DELETE /me/trackings/DTBBBBBBBBBBB', () => json(204))
  const list = () => packagesApi.endpoints.getTrackings.select()(store.getState()).data?.items ?? []

  const sub = store.dispatch(packagesApi.endpoints.getTrackings.initiate())
  await sub
  await flush()
  const socket = sockets.last()
  t.same(socket.ops('subscribe').map((m) => m.channel), [`user:${user.id}`], 'one subscription for all tracked packages')
  socket.confirmAll()
  socket.receive({ type: 'event', channel: `user:${user.id}`, event: statusEvent('DTAAAAAAAAAAA', 2, 'in_transit') })
  t.equal(list()[0]?.package.status, 'in_transit', 'the status changed in the cache')
  t.equal(count('GET /me/trackings'), 1, 'without a refetch')

  await store.dispatch(packagesApi.endpoints.addTracking.initiate({ trackingNumber: 'DTBBBBBBBBBBB' }))
  t.same(list().map((e) => e.trackingNumber), ['DTBBBBBBBBBBB', 'DTAAAAAAAAAAA'], 'an added package shows at once, on top')
  t.equal(count('GET /me/trackings'), 1)
  await store.dispatch(packagesApi.endpoints.removeTracking.initiate('DTBBBBBBBBBBB'))
  t.same(list().map((e) => e.trackingNumber), ['DTAAAAAAAAAAA'], 'a removed one goes at once')

  socket.drop()
  timers.fire()
  const next = sockets.last()
  next.open()
  next.confirmAll()
  await flush()
  await flush()
  t.equal(count('GET /me/trackings'), 2, 'the user channel cannot replay: one refetch after reconnecting')
  sub.unsubscribe()
})

t.test('the package channel resumes from the timeline, and positions reach the route and the package', async (t) => {
  const { store, sockets, count, route } = setup(t, {})
  const tn = 'DTAAAAAAAAAAA'
  route(`GET /packages/${tn}`, () => json(200, pkg(tn, { status: 'in_transit', updatedAt: T0 })))
  route(`GET /packages/${tn}/events`, () => json(200, { items: [{ ...statusEvent(tn, 1, 'pending'), type: 'package.created' }, statusEvent(tn, 2, 'in_transit')] }))
  route(`GET /packages/${tn}/locations`, () => json(200, { items: [{ lat: 52, lng: 13, recordedAt: T0 }] }))
  await Promise.all([
    store.dispatch(packagesApi.endpoints.getPackage.initiate(tn)),
    store.dispatch(packagesApi.endpoints.getPackageEvents.initiate(tn)),
    store.dispatch(packagesApi.endpoints.getPackageLocations.initiate(tn)),
  ])
  await flush()
  const socket = sockets.last()
  t.same(socket.ops('subscribe').map((m) => [m.channel, m.since]), [[`package:${tn}`, 2]], 'subscribed after the last seq it has')
  socket.confirmAll({ [`package:${tn}`]: 3 })
  socket.receive({ type: 'event', channel: `package:${tn}`, event: statusEvent(tn, 3, 'out_for_delivery') })
  socket.receive({ type: 'event', channel: `package:${tn}`, event: { id: 'loc', type: 'package.location', trackingNumber: tn, occurredAt: T1, recordedAt: T1, data: { lat: 51, lng: 12, recordedAt: T1 } } })
  const state = store.getState()
  t.same(packagesApi.endpoints.getPackageEvents.select(tn)(state).data?.items.map((e) => e.seq), [1, 2, 3])
  t.match(packagesApi.endpoints.getPackage.select(tn)(state).data, { status: 'out_for_delivery', lastLocation: { lat: 51, lng: 12, recordedAt: T1 } })
  t.same(packagesApi.endpoints.getPackageLocations.select(tn)(state).data?.items.map((p) => p.lat), [51, 52], 'the new position leads the route')
  t.equal(count(`GET /packages/${tn}/events`) + count(`GET /packages/${tn}`), 2, 'no refetch')
})

t.test('an expired access token is refreshed once for concurrent requests, which are retried', async (t) => {
  const stale = jwt(-10)
  const { store, storage, sockets, count, route } = setup(t, { accessToken: stale, refreshToken: 'r1' })
  const fresh = jwt()
  route('POST /auth/refresh', (_req, body) => ((body as { refreshToken: string }).refreshToken === 'r1' ? json(200, { accessToken: fresh, refreshToken: 'r2' }) : json(401, { statusCode: 401, error: 'Unauthorized', code: 'unauthorized', message: 'used' })))
  const authorized = (req: Request, ok: () => Response) => (req.headers.get('authorization') === `Bearer ${fresh}` ? ok() : json(401, { statusCode: 401, error: 'Unauthorized', code: 'unauthorized', message: 'expired' }))
  route('GET /me/trackings', (req) => authorized(req, () => json(200, { items: [] })))
  route('GET /auth/me', (req) => authorized(req, () => json(200, user)))

  const [a, b] = await Promise.all([store.dispatch(packagesApi.endpoints.getTrackings.initiate()), store.dispatch(api.endpoints.me.initiate())])
  t.ok(a.data && b.data, 'both requests succeed after the refresh')
  t.equal(count('POST /auth/refresh'), 1, 'one refresh for both')
  t.equal(storage.saved?.refreshToken, 'r2', 'the rotated refresh token is stored')
  t.equal(sockets.last().ops('auth').at(-1)?.token, fresh, 'the live link gets the fresh token')
})

t.test('tokens another tab already rotated are adopted instead of presenting a used one', async (t) => {
  const { store, storage, count, route } = setup(t, { accessToken: jwt(-10), refreshToken: 'r1' })
  const fromOtherTab = jwt()
  route('POST /auth/refresh', () => json(401, { statusCode: 401, error: 'Unauthorized', code: 'unauthorized', message: 'used' }))
  route('GET /auth/me', (req) => (req.headers.get('authorization') === `Bearer ${fromOtherTab}` ? json(200, user) : json(401, { statusCode: 401, error: 'Unauthorized', code: 'unauthorized', message: 'expired' })))
  storage.saved = { user, accessToken: fromOtherTab, refreshToken: 'r2', endedBecause: null }
  const res = await store.dispatch(api.endpoints.me.initiate())
  t.same(res.data, user)
  t.equal(count('POST /auth/refresh'), 0, 'no refresh with the used token')
  t.equal(store.getState().session.refreshToken, 'r2')
})

t.test('a refused refresh ends the session and says why', async (t) => {
  const { store, storage, route } = setup(t, { accessToken: jwt(-10), refreshToken: 'r-used' })
  route('POST /auth/refresh', () => json(401, { statusCode: 401, error: 'Unauthorized', code: 'unauthorized', message: 'used' }))
  route('GET /me/trackings', () => json(401, { statusCode: 401, error: 'Unauthorized', code: 'unauthorized', message: 'expired' }))
  const res = await store.dispatch(packagesApi.endpoints.getTrackings.initiate())
  t.notOk(res.data, 'the request fails')
  t.equal(store.getState().session.user, null)
  t.equal(store.getState().session.endedBecause, 'expired', 'the sign-in page can tell the user why')
  t.equal(storage.saved, undefined)
})
