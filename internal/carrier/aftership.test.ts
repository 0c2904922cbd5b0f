import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { AfterShipProvider, type AfterShipOptions } from './aftership.js'
import { BadRequest, ProviderUnavailable, RateLimited } from './ports.js'
import { startSandbox } from './sandbox/server.js'

// The AfterShip adapter against the sandbox, which speaks AfterShip's shape over HTTP.
const sandbox = await startSandbox({ apiKey: 'as-test-key' })
t.teardown(() => sandbox.close())

const provider = (over: Partial<AfterShipOptions> = {}) =>
  new AfterShipProvider({ apiKey: 'as-test-key', webhookSecret: 'whsec-test', baseUrl: sandbox.url, timeoutMs: 1_000, breakerThreshold: 3, halfOpenAfterMs: 60_000, ...over })

t.beforeEach(() => sandbox.state.reset())

t.test('a new number is registered once, then read with one call', async (t) => {
  const p = provider()
  const first = await p.track('UPS', 'SBXDELIVERED0001')
  t.equal(first.status, 'info_received')
  t.match(first.checkpoints, [{ message: 'Shipping label created, carrier awaiting item' }])
  t.ok(first.estimatedDelivery, 'the promised day comes along')
  t.match(sandbox.state.counts, { total: 1, get: 0, create: 1 }, 'the create answers with the tracking: one call')
  const again = await p.track('ups', 'SBXDELIVERED0001', { known: true })
  t.equal(again.hash, first.hash, 'nothing moved: same hash')
  t.match(sandbox.state.counts, { total: 2, get: 1, create: 1 }, 'a known number is one GET')
})

t.test('a wrong guess costs a second call only when the budget allows it', async (t) => {
  const p = provider()
  let asked = 0
  const refuse = async () => {
    asked += 1
    return false
  }
  await t.rejects(p.track('ups', 'SBXINTRANSIT0100', { known: true, mayCallAgain: refuse }), { name: 'SecondCallRefused' }, 'removed at AfterShip: the create waits')
  t.match(sandbox.state.counts, { total: 1, get: 1, create: 0 })
  t.equal((await p.track('ups', 'SBXINTRANSIT0100', { known: true, mayCallAgain: async () => true })).status, 'info_received', 'with budget it is registered again')
  await t.rejects(p.track('ups', 'SBXINTRANSIT0100', { mayCallAgain: refuse }), { name: 'SecondCallRefused' }, 'registered elsewhere: the read waits')
  t.equal(asked, 2)
  t.match(sandbox.state.counts, { total: 4, get: 2, create: 2 })
})

t.test('each scripted journey ends in its outcome', async (t) => {
  const p = provider()
  const table: Array<[string, string, Record<string, unknown>]> = [
    ['SBXPRETRANSIT01', 'info_received', {}],
    ['SBXINTRANSIT01', 'in_transit', {}],
    ['SBXOFD0001', 'out_for_delivery', {}],
    ['SBXDELIVERED01', 'delivered', { checkpoints: { length: 6 } }],
    ['SBXRETURNED01', 'returned', {}],
    ['SBXFAILURE01', 'exception', {}],
    ['SBXUNKNOWN01', 'expired', { notFound: true, checkpoints: [] }],
    ['ZZ12345678', 'delivered', {}],
  ]
  for (const [tn] of table) await p.track('ups', tn)
  sandbox.state.advance(7 * 24 * 60)
  for (const [tn, status, more] of table) t.match(await p.track('ups', tn), { status, ...more }, tn)
  const delivered = await p.track('ups', 'SBXDELIVERED01')
  t.match(delivered.checkpoints.at(-1), { status: 'delivered', city: 'Columbus', country: 'USA', lat: 39.9612, lng: -82.9988 })
})

t.test('a faster sandbox clock plays a journey sooner', async (t) => {
  sandbox.state.speed = 60
  t.teardown(() => void (sandbox.state.speed = 1))
  const p = provider()
  await p.track('ups', 'SBXDELIVERED0002')
  sandbox.state.advance(47)
  t.equal((await p.track('ups', 'SBXDELIVERED0002')).status, 'out_for_delivery', '47 minutes at x60 is 47 hours of journey')
  sandbox.state.advance(1)
  t.equal((await p.track('ups', 'SBXDELIVERED0002')).status, 'delivered')
})

t.test('a 429 becomes RateLimited with the retry-after seconds', async (t) => {
  sandbox.state.addFault({ mode: 'rate_limit', retryAfterS: 7 }, 1)
  const err = await provider().track('ups', 'SBXINTRANSIT02').catch((e: unknown) => e)
  t.type(err, RateLimited)
  t.equal((err as RateLimited).retryAfterS, 7)
})

t.test('a 5xx, a timeout and a too slow answer are ProviderUnavailable', async (t) => {
  sandbox.state.addFault({ mode: 'server_error', status: 500 }, 1)
  await t.rejects(provider().track('ups', 'SBXINTRANSIT03'), { name: 'ProviderUnavailable', statusCode: 500, reason: 'server_error' })
  sandbox.state.addFault({ mode: 'timeout' }, 1)
  await t.rejects(provider({ timeoutMs: 200 }).track('ups', 'SBXINTRANSIT03'), { name: 'ProviderUnavailable', reason: 'timeout' })
  sandbox.state.addFault({ mode: 'slow', delayMs: 600 }, 1)
  await t.rejects(provider({ timeoutMs: 200 }).track('ups', 'SBXINTRANSIT03'), { name: 'ProviderUnavailable', reason: 'timeout' })
  sandbox.state.addFault({ mode: 'slow', delayMs: 50 }, 1)
  t.equal((await provider().track('ups', 'SBXINTRANSIT03')).status, 'info_received', 'a slow answer within the deadline is fine')
})

t.test('the breaker opens after failures in a row and stops calling', async (t) => {
  const p = provider()
  const other = provider()
  sandbox.state.addFault({ mode: 'server_error' }, 3)
  for (let i = 0; i < 3; i++) await t.rejects(p.track('ups', 'SBXINTRANSIT04'), ProviderUnavailable)
  t.equal(p.breakerState(), 'open')
  const calls = sandbox.state.counts.total
  await t.rejects(p.track('ups', 'SBXINTRANSIT04'), { name: 'ProviderUnavailable', reason: 'breaker_open' })
  t.equal(sandbox.state.counts.total, calls, 'an open breaker makes no call')
  t.equal(other.breakerState(), 'closed', 'each provider has its own breaker')
  t.equal((await other.track('ups', 'SBXINTRANSIT04')).status, 'info_received')
})

t.test('the breaker lets one trial through after a while, and closes on success', async (t) => {
  const p = provider({ halfOpenAfterMs: 50 })
  sandbox.state.addFault({ mode: 'server_error' }, 3)
  for (let i = 0; i < 3; i++) await t.rejects(p.track('ups', 'SBXINTRANSIT05'), ProviderUnavailable)
  t.equal(p.breakerState(), 'open')
  await new Promise((r) => setTimeout(r, 80))
  t.equal((await p.track('ups', 'SBXINTRANSIT05')).status, 'info_received')
  t.equal(p.breakerState(), 'closed')
})

t.test('rate limits and refusals do not open the breaker', async (t) => {
  const p = provider()
  sandbox.state.addFault({ mode: 'rate_limit' }, 4)
  for (let i = 0; i < 4; i++) await t.rejects(p.track('ups', 'SBXINTRANSIT06'), RateLimited)
  t.equal(p.breakerState(), 'closed')
  await t.rejects(provider({ apiKey: 'wrong-key' }).track('ups', 'SBXINTRANSIT06'), { name: 'BadRequest', statusCode: 401 })
  await t.rejects(p.track('ups', 'X!'), BadRequest, 'a number the provider refuses')
  await t.rejects(provider({ baseUrl: `${sandbox.url}/__sandbox` }).track('ups', 'SBXINTRANSIT06'), { name: 'BadRequest', statusCode: 404 }, 'a wrong CARRIER_API_URL is not "not found at carrier"')
})

/** A receiver for the sandbox's pushes. */
async function receiver() {
  const got: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) })
      res.writeHead(202).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, close: () => new Promise<void>((r) => server.close(() => r())) }
}

t.test('pushed webhooks carry a signature the adapter accepts, and only then', async (t) => {
  const hook = await receiver()
  const pusher = await startSandbox({ webhook: { url: hook.url, secret: 'whsec-test' }, tickMs: 60_000 })
  t.teardown(async () => {
    await pusher.close()
    await hook.close()
  })
  const p = provider({ baseUrl: pusher.url, apiKey: 'any' })
  await p.track('dhl', 'SBXDELIVERED0003')
  pusher.state.advance(7 * 60)
  t.equal(await pusher.pushNow(), 1, 'one tracking moved')
  t.equal(await pusher.pushNow(), 0, 'and is not pushed twice')
  t.equal(hook.got.length, 1)
  const { headers, body } = hook.got[0]!
  t.ok(p.verifyWebhook(headers, body), 'a genuine push is accepted')
  const update = p.parseWebhook(body)
  t.match(update, { trackingNumber: 'SBXDELIVERED0003', carrier: 'dhl', snapshot: { status: 'in_transit' } })
  t.equal(update.snapshot.hash, (await p.track('dhl', 'SBXDELIVERED0003')).hash, 'the push and a poll agree')
  t.equal(pusher.state.counts.webhooksSent, 1)

  const tampered = Buffer.from(body.toString().replace('in transit', 'in_transit').replace('Chicago', 'Boston'))
  t.notOk(p.verifyWebhook(headers, tampered), 'a changed body is refused')
  t.notOk(p.verifyWebhook({ ...headers, 'aftership-hmac-sha256': undefined }, body), 'a missing signature is refused')
  t.notOk(p.verifyWebhook({ ...headers, 'aftership-hmac-sha256': 'bm90IGEgc2lnbmF0dXJl' }, body), 'a wrong signature is refused')
  t.notOk(provider({ webhookSecret: 'another-secret' }).verifyWebhook(headers, body), 'another secret is refused')
  t.notOk(provider({ webhookSecret: '' }).verifyWebhook(headers, body), 'no secret configured: nothing is accepted')
  t.throws(() => p.parseWebhook('{"event":"tracking_update"}'), BadRequest)
})

t.test('thirty checks in flight at once raise no listener-leak warning', async (t) => {
  const p = provider()
  const warnings: string[] = []
  const onWarning = (w: Error) => warnings.push(w.name)
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  sandbox.state.addFault({ mode: 'slow', delayMs: 30 }, 0)
  await Promise.all(Array.from({ length: 30 }, (_, i) => p.track('ups', `SBXINTRANSIT07${String(i).padStart(2, '0')}`)))
  await new Promise((r) => setImmediate(r))
  t.same(warnings.filter((w) => w === 'MaxListenersExceededWarning'), [])
})
