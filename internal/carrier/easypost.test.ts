import { createHmac } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { EasyPostProvider, type EasyPostOptions } from './easypost.js'
import { BadRequest, NotFoundAtCarrier, ProviderUnavailable, RateLimited } from './ports.js'

// A tiny stand-in for api.easypost.com/v2 answering in the Tracker shape of EasyPost's docs.
const tracker = (code: string, carrier: string, status: string, details: Array<[string, string, string, string | null]>) => ({
  id: 'trk_acfcc5058c5445bda6c3c331125d52c9',
  object: 'Tracker',
  mode: 'test',
  tracking_code: code,
  status,
  status_detail: 'status_update',
  carrier,
  est_delivery_date: '2026-12-06T05:14:45Z',
  tracking_details: details.map(([datetime, message, st, city]) => ({
    object: 'TrackingDetail',
    message,
    description: '',
    status: st,
    datetime,
    source: carrier,
    tracking_location: { object: 'TrackingLocation', city, state: city ? 'TX' : null, country: city ? 'US' : null, zip: null },
  })),
})

const received: Array<{ authorization?: string; body: { tracker?: { tracking_code?: string; carrier?: string } } }> = []
const held = new Set<ServerResponse>()
const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as (typeof received)[number]['body']
    received.push({ authorization: req.headers.authorization, body })
    if (req.method !== 'POST' || req.url !== '/v2/trackers') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found')
    if (req.headers.authorization !== `Basic ${Buffer.from('ep-test-key:').toString('base64')}`) return json(res, 401, { error: { code: 'APIKEY.INACTIVE', message: 'bad key' } })
    const code = body.tracker?.tracking_code ?? ''
    if (code === 'RATELIMITED1') return json(res, 429, { error: { code: 'RATE_LIMITED', message: 'slow down' } }, { 'retry-after': '12' })
    if (code === 'DOWNDOWN01') return json(res, 502, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'bad gateway' } })
    if (code === 'HANGING001') return void held.add(res)
    if (code === 'NOSUCHCODE1') return json(res, 404, { error: { code: 'NOT_FOUND', message: 'The requested resource could not be found.' } })
    if (code === 'MALFORMED1') return json(res, 422, { error: { code: 'TRACKER.CREATE.ERROR', message: 'Invalid tracking code' } })
    if (code === 'EZ1000000001') return json(res, 201, tracker(code, 'USPS', 'pre_transit', [['2026-12-01T05:14:45Z', 'Pre-Shipment Info Sent to USPS', 'pre_transit', null]]))
    return json(res, 200, tracker(code, 'USPS', 'delivered', [
      ['2026-12-01T05:14:45Z', 'Pre-Shipment Info Sent to USPS', 'pre_transit', null],
      ['2026-12-02T17:51:45Z', 'Shipping Label Created', 'in_transit', 'HOUSTON'],
      ['2026-12-04T09:00:00Z', 'Delivered', 'delivered', 'HOUSTON'],
    ]))
  })
})
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
t.teardown(async () => {
  for (const res of held) res.destroy()
  server.closeAllConnections()
  await new Promise<void>((r) => server.close(() => r()))
})
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`
const provider = (over: Partial<EasyPostOptions> = {}) =>
  new EasyPostProvider({ apiKey: 'ep-test-key', webhookSecret: 'ep-whsec', baseUrl: base, timeoutMs: 1_000, breakerThreshold: 3, ...over })

t.test('a tracker is created with basic auth and read into a snapshot', async (t) => {
  const s = await provider().track('usps', 'EZ4000000004')
  t.match(received.at(-1), { body: { tracker: { tracking_code: 'EZ4000000004', carrier: 'USPS' } } }, "EasyPost's carrier name is sent")
  t.equal(s.status, 'delivered')
  t.equal(s.estimatedDelivery, '2026-12-06T05:14:45.000Z')
  t.match(s.checkpoints, [
    { message: 'Pre-Shipment Info Sent to USPS', status: 'info_received' },
    { message: 'Shipping Label Created', city: 'HOUSTON', country: 'US', status: 'in_transit' },
    { message: 'Delivered', status: 'delivered' },
  ])
  t.equal((await provider().track('usps', 'EZ1000000001')).status, 'info_received')
  t.equal((await provider().track('usps', 'EZ4000000004')).hash, s.hash, 'the same answer, the same hash')
})

t.test('provider answers become typed errors', async (t) => {
  const err = await provider().track('usps', 'RATELIMITED1').catch((e: unknown) => e)
  t.type(err, RateLimited)
  t.equal((err as RateLimited).retryAfterS, 12)
  await t.rejects(provider().track('usps', 'DOWNDOWN01'), { name: 'ProviderUnavailable', statusCode: 502 })
  await t.rejects(provider({ timeoutMs: 150 }).track('usps', 'HANGING001'), { name: 'ProviderUnavailable', reason: 'timeout' })
  await t.rejects(provider().track('usps', 'NOSUCHCODE1'), NotFoundAtCarrier)
  await t.rejects(provider().track('usps', 'MALFORMED1'), { name: 'BadRequest', statusCode: 422, message: /TRACKER.CREATE.ERROR/ })
  await t.rejects(provider({ apiKey: 'wrong' }).track('usps', 'EZ4000000004'), { name: 'BadRequest', statusCode: 401 })
  await t.rejects(provider({ baseUrl: `${base}/oops` }).track('usps', 'EZ4000000004'), { name: 'BadRequest', statusCode: 404 }, 'a wrong CARRIER_API_URL is not an unknown number')
  await t.rejects(provider({ baseUrl: 'http://127.0.0.1:1/v2' }).track('usps', 'EZ4000000004'), { name: 'ProviderUnavailable', reason: 'network' })
})

t.test('the breaker opens after three failures in a row and makes no call while open', async (t) => {
  const p = provider()
  for (let i = 0; i < 3; i++) await t.rejects(p.track('usps', 'DOWNDOWN01'), ProviderUnavailable)
  t.equal(p.breakerState(), 'open')
  const before = received.length
  await t.rejects(p.track('usps', 'EZ4000000004'), { name: 'ProviderUnavailable', reason: 'breaker_open' })
  t.equal(received.length, before, 'the server saw nothing')
  const q = provider()
  await t.rejects(q.track('usps', 'NOSUCHCODE1'), NotFoundAtCarrier)
  await t.rejects(q.track('usps', 'MALFORMED1'), BadRequest)
  await t.rejects(q.track('usps', 'RATELIMITED1'), RateLimited)
  t.equal(q.breakerState(), 'closed', 'refusals and rate limits are not outages')
})

const event = JSON.stringify({
  object: 'Event',
  description: 'tracker.updated',
  mode: 'test',
  result: tracker('EZ2000000002', 'UPS', 'in_transit', [['2026-12-02T17:51:45Z', 'Arrived at facility', 'in_transit', 'HOUSTON']]),
})
const sign = (secret: string, body: string) => `hmac-sha256-hex=${createHmac('sha256', secret.normalize('NFKD')).update(body).digest('hex')}`

t.test('webhook signatures: accepted when genuine, refused otherwise', async (t) => {
  const p = provider()
  t.ok(p.verifyWebhook({ 'X-Hmac-Signature': sign('ep-whsec', event) }, event), 'genuine (any header case)')
  t.ok(p.verifyWebhook({ 'x-hmac-signature': sign('ep-whsec', event) }, Buffer.from(event)), 'raw body as bytes')
  t.notOk(p.verifyWebhook({ 'x-hmac-signature': sign('ep-whsec', event) }, event.replace('HOUSTON', 'DALLAS')), 'body changed')
  t.notOk(p.verifyWebhook({ 'x-hmac-signature': sign('other-secret', event) }, event), 'other secret')
  t.notOk(p.verifyWebhook({ 'x-hmac-signature': sign('ep-whsec', event).replace('hmac-sha256-hex=', '') }, event), 'prefix missing')
  t.notOk(p.verifyWebhook({}, event), 'no signature')
  // EasyPost normalises the secret (NFKD) before keying the HMAC: a composed é matches its decomposed form.
  const composed = provider({ webhookSecret: 'caf\u00e9-secret' })
  t.ok(composed.verifyWebhook({ 'x-hmac-signature': sign('cafe\u0301-secret', event) }, event), 'NFKD-normalised secret')
})

t.test('a tracker.updated event becomes an update for our carrier slug', async (t) => {
  const u = provider().parseWebhook(event)
  t.match(u, { trackingNumber: 'EZ2000000002', carrier: 'ups', snapshot: { status: 'in_transit', checkpoints: [{ city: 'HOUSTON' }] } })
  t.throws(() => provider().parseWebhook('{"object":"Event","result":{"object":"Shipment"}}'), BadRequest)
  t.throws(() => provider().parseWebhook('not json'), BadRequest)
})
