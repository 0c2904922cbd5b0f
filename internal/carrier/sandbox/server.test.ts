import t from 'tap'
import { startSandbox } from './server.js'

// The sandbox as a developer drives it: over HTTP, with curl-like requests.
const sandbox = await startSandbox({ apiKey: 'sbx-key' })
t.teardown(() => sandbox.close())
t.beforeEach(() => sandbox.state.reset())

const api = (path: string, init: RequestInit = {}) =>
  fetch(sandbox.url + path, { ...init, headers: { 'as-api-key': 'sbx-key', 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } })
const create = (tn: string) => api('/tracking/2023-10/trackings', { method: 'POST', body: JSON.stringify({ tracking: { slug: 'ups', tracking_number: tn } }) })
const control = async (path: string, method = 'GET', body?: unknown) =>
  (await fetch(sandbox.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) })).json() as Promise<Record<string, unknown>>

t.test('trackings are created once and read back under any API prefix', async (t) => {
  t.equal((await create('SBXINTRANSIT10')).status, 201)
  const dup = await create('SBXINTRANSIT10')
  t.equal(dup.status, 400)
  t.match(await dup.json(), { meta: { code: 4003 } }, "AfterShip's 'already exists'")
  const got = await api('/trackings/ups/SBXINTRANSIT10')
  t.match(await got.json(), { meta: { code: 200 }, data: { tracking: { tracking_number: 'SBXINTRANSIT10', tag: 'InfoReceived' } } })
  t.match(await (await api('/trackings/ups/SBXNEVERSEEN1')).json(), { meta: { code: 4004 } })
  t.equal((await api('/trackings/ups/SBXINTRANSIT10', { headers: { 'as-api-key': 'wrong' } })).status, 401)
  t.match(await control('/__sandbox/calls'), { total: 5, create: 2, get: 2, unauthorized: 1, trackings: 1 })
})

t.test('faults queued by the control endpoint hit the next requests, then stop', async (t) => {
  await create('SBXINTRANSIT11')
  t.match(await control('/__sandbox/faults', 'POST', { mode: 'rate_limit', retryAfterS: 5, count: 2 }), { ok: true })
  for (let i = 0; i < 2; i++) {
    const res = await api('/trackings/ups/SBXINTRANSIT11')
    t.equal(res.status, 429)
    t.equal(res.headers.get('retry-after'), '5')
  }
  t.equal((await api('/trackings/ups/SBXINTRANSIT11')).status, 200, 'used up')
  await control('/__sandbox/faults', 'POST', { mode: 'server_error', status: 502, count: 0 })
  t.equal((await api('/trackings/ups/SBXINTRANSIT11')).status, 502)
  t.equal((await api('/trackings/ups/SBXINTRANSIT11')).status, 502, 'count 0 lasts until cleared')
  await control('/__sandbox/faults', 'DELETE')
  t.equal((await api('/trackings/ups/SBXINTRANSIT11')).status, 200)
  t.match(await control('/__sandbox/faults', 'POST', { mode: 'explode' }), { error: /mode must be one of/ })
  t.match(await control('/__sandbox/calls'), { faulted: 4 })
})

t.test('one request can ask for its own fault', async (t) => {
  await create('SBXINTRANSIT12')
  const limited = await api('/trackings/ups/SBXINTRANSIT12', { headers: { 'x-sandbox-fault': 'rate_limit', 'x-sandbox-retry-after': '9' } })
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '9')
  const hung = api('/trackings/ups/SBXINTRANSIT12', { headers: { 'x-sandbox-fault': 'timeout' }, signal: AbortSignal.timeout(200) })
  await t.rejects(hung, { name: 'TimeoutError' }, 'a timeout fault never answers')
  t.equal((await api('/trackings/ups/SBXINTRANSIT12', { headers: { 'x-sandbox-fault': 'slow', 'x-sandbox-delay-ms': '50' } })).status, 200)
})

t.test('the clock can be read, sped up and moved forward', async (t) => {
  await create('SBXDELIVERED10')
  t.match(await control('/__sandbox/clock', 'POST', { speed: 60 }), { speed: 60 })
  await create('SBXDELIVERED11') // plays at x60
  await control('/__sandbox/clock', 'POST', { advanceMinutes: 48 })
  const tag = async (tn: string) => ((await (await api(`/trackings/ups/${tn}`)).json()) as { data: { tracking: { tag: string } } }).data.tracking.tag
  t.equal(await tag('SBXDELIVERED11'), 'Delivered', '48 minutes at x60')
  t.equal(await tag('SBXDELIVERED10'), 'InfoReceived', 'the older tracking keeps real time')
  await control('/__sandbox/reset', 'POST')
  t.match(await control('/__sandbox/calls'), { total: 0, trackings: 0 })
  t.match(await control('/__sandbox/clock'), { speed: 60 }, 'reset keeps the speed')
})
