// End-to-end for the Carrier sync console of issue 19 in Debian's Chromium: a gateway
// whose carriers role asks the in-process sandbox provider, an admin who finds a
// tracking that needs attention, refreshes it, and sees the package move on once the
// worker has asked. Screenshots go to test-artifacts/carrier-*.png.
import type { Test } from 'tap'
import { redisPackageCache } from '../../internal/app/stores.js'
import { bearer, testGateway } from '../../internal/app/testing/gateway.js'
import { silentLog } from '../../internal/app/testing/worker.js'
import { buildWorker } from '../../internal/app/worker.js'
import { startSandbox } from '../../internal/carrier/sandbox/server.js'
import { WAIT, browserTest, launchChromium, prepareConsole, shot } from './harness.js'

// A budget of 4 calls a day, 1 of them kept for manual refreshes: the test spends it all.
const BUDGET = { TRACKING_DAILY_BUDGET: '4', TRACKING_RATE_BUFFER: '25' }
const SPENT = "Today's budget is spent; scheduled checks resume tomorrow"

async function run(t: Test) {
  prepareConsole(t)

  const sandbox = await startSandbox()
  t.teardown(() => sandbox.close())
  const gw = await testGateway(t, { CARRIER_PROVIDER: 'sandbox', CARRIER_API_URL: sandbox.url, TRACKING_MAX_FAILURES: '2', TRACKING_API_TIMEOUT: '2000', ...BUDGET })
  // The worker reads the real clock, pushed ahead only to reach a retry's due time.
  let ahead = 0
  const worker = buildWorker({
    config: gw.config,
    pool: gw.pool,
    bus: gw.bus,
    roles: [],
    pollers: ['carriers'],
    carriers: { cache: redisPackageCache(gw.config, gw.redis), clock: () => new Date(Date.now() + ahead), random: () => 0.5 },
    log: silentLog,
  })
  t.teardown(() => worker.stop())
  const sync = worker.carrierSync!
  const base = (await gw.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1')
  const call = async (method: 'GET' | 'POST', path: string, token: string, payload?: object) => {
    const res = await gw.app.inject({ method, url: `/api/v1${path}`, headers: bearer(token), ...(payload ? { payload } : {}) })
    return { status: res.statusCode, body: res.body ? (res.json() as Record<string, unknown>) : {} }
  }

  const admin = await gw.user('admin', 'Ada Admin')
  const customer = await gw.user('customer', 'Cora Customer')
  const good = 'SBXDELIVERED0101'
  const stuck = 'SBXINTRANSIT0101'
  t.equal((await call('POST', '/me/trackings', customer.token, { trackingNumber: good, carrier: 'ups' })).status, 201, 'a customer follows a UPS number')
  t.match(await sync.runOnce(), { called: 1 }, 'the first tracking is asked once')
  t.equal((await call('POST', '/me/trackings', customer.token, { trackingNumber: stuck, carrier: 'dhl' })).status, 201, 'and a DHL one')
  // The provider fails twice in a row: with TRACKING_MAX_FAILURES=2 the tracking needs attention.
  sandbox.state.addFault({ mode: 'server_error', status: 503 }, 2)
  t.match(await sync.runOnce(), { called: 1 }, 'a first failure')
  ahead = 61_000 // the first retry is due after 60 s
  t.match(await sync.runOnce(), { called: 1 }, 'a first failure')
  ahead = 0
  const flagged = await call('GET', '/carrier-sync/jobs?state=attention', admin.token)
  t.match(flagged.body.items, [{ trackingNumber: stuck, requiresAttention: true, consecutiveFailures: 2 }], 'the API flags it')
  const usage = (await call('GET', '/carrier-sync/usage?days=7', admin.token)).body
  t.match(usage.today, { calls: 3, budget: 4, reserve: 1 }, 'three provider calls today')

  const chromium = await launchChromium(t)
  const page = await chromium.newPage(await chromium.newContext({ viewport: { width: 1280, height: 1000 }, baseURL: base, locale: 'en-US' }), 'admin')
  await page.goto('/signin')
  await page.getByLabel('Email').fill(admin.email)
  await page.getByLabel('Password').fill(admin.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor(WAIT)

  const row = page.locator(`tr[data-tn="${stuck}"]`)
  await t.test('the admin opens Carrier sync and sees the queue, the usage and the stuck tracking', async (t) => {
    await page.getByRole('link', { name: 'Carrier sync' }).click()
    await page.getByRole('heading', { name: 'Carrier sync' }).waitFor(WAIT)
    await row.waitFor(WAIT)
    t.equal(await page.getByTestId('budget-today').textContent(), '3 of 4 calls today · reserve 1', "today's calls against budget and reserve")
    t.equal(await page.getByTestId('calls').textContent(), 'Calls today3of 4 · 1 left', 'the calls tile')
    await page.getByRole('img', { name: /Carrier calls by day, last 7 days: 3 calls, 2 failures, 1 status changes/ }).waitFor(WAIT)
    t.same(await page.locator('tr[data-type]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type'))), ['manual', 'retry', 'scheduled', 'cleanup'], 'the queue by type, in claim order')
    t.match(await row.textContent(), /dhl.*2/, 'the carrier and the failures in a row')
    t.equal(await page.getByTestId('budget-note').textContent(), 'Scheduled checks are paused until tomorrow; 1 manual refresh is left in the reserve.', 'the scheduled share is spent')
    const log = page.locator('tr[data-log]')
    await log.nth(2).waitFor(WAIT)
    const lines = await log.evaluateAll((rows) => rows.map((r) => (r as HTMLElement).innerText.replace(/\s+/g, ' ')))
    t.equal(lines.length, 3, 'the recent checks list every check of the day')
    t.match(lines[0], new RegExp(`${stuck}.*schedule.*failed: .*503`), 'newest first: the stuck tracking failed with the provider error code')
    t.match(lines[2], /schedule.*pending → info received/, 'the first check moved its package on')
    await shot(page, 'carrier-sync.png')
  })

  await t.test('Refresh spends the reserve, the package moves on once the worker asks, then the budget is spent', async (t) => {
    await row.getByRole('button', { name: `Refresh ${stuck}` }).click()
    const outcome = row.getByTestId('refresh-outcome')
    await outcome.waitFor(WAIT)
    t.match(await outcome.textContent(), /^Scheduled for /, 'when it will be asked')
    await page.locator('tr[data-type="manual"] td[data-state="pending"]', { hasText: '1' }).waitFor(WAIT)
    t.pass('the queue shows one manual check pending')

    t.match(await sync.runOnce(), { called: 1 }, 'the worker asks the carrier')
    await row.waitFor({ state: 'detached', ...WAIT })
    t.pass('the tracking no longer needs attention')
    await page.getByText('Every tracking is being checked normally.').waitFor(WAIT)
    await page.getByTestId('budget-note').filter({ hasText: SPENT }).waitFor(WAIT)
    t.pass('the refresh took the reserve: the page says the budget is spent')
    await shot(page, 'carrier-sync-spent.png')

    await page.goto(`/packages/${stuck}`)
    // Pending until now: the carrier's first answer has the label scan.
    await page.locator('.head-status [data-status="info_received"]').waitFor(WAIT)
    t.equal(await page.getByTestId('last-checked').textContent(), 'checked with the carrier just now', 'when the carrier was asked')
    t.match(await page.locator('.timeline').textContent(), /Shipping label created/, 'the carrier’s scan is in the history')
    await page.getByRole('button', { name: 'Refresh from carrier' }).click()
    await page.getByTestId('refresh-outcome').waitFor(WAIT)
    t.equal(await page.getByTestId('refresh-outcome').textContent(), SPENT, 'asking again is refused in words')
    await shot(page, 'carrier-package.png')

    await page.goto(`/track/${stuck}`)
    await page.getByText('Carrier check').waitFor(WAIT)
    t.match(await page.locator('.facts').textContent(), /checked with the carrier just now/, 'the public view says when the carrier was asked')
  })

  await t.test('no console errors or policy violations', (t) => chromium.assertNoProblems(t))
}

await browserTest('the Carrier sync console in Chromium against a gateway, the sandbox provider and the carriers role', run)
