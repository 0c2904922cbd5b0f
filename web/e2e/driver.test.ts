// End-to-end: a driver's day on a 375 px phone in Debian's Chromium, against a real
// gateway and a real S3 API (s3rver): a live offer, accepting it, status steps,
// location sharing and a proof photo uploaded straight to the bucket.
// Screenshots go to test-artifacts/driver-*.png.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { Browser } from 'playwright-core'
import { projectRoot } from '../../internal/platform/paths.js'
import { startS3 } from '../../internal/platform/testing/s3.js'
import { testGateway } from '../../internal/app/testing/gateway.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync']
const root = projectRoot()
const shots = join(root, 'test-artifacts')
const WAIT = { timeout: 20_000 }
const PHONE = { width: 375, height: 812 }
const HERE = { latitude: 48.137, longitude: 11.575, accuracy: 8 }
// A 1x1 PNG: small, and a real image the page can show as a thumbnail.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')

async function run(t: Test) {
  if (!existsSync(join(root, 'web', 'dist', 'index.html'))) {
    const built = spawnSync('npm', ['run', 'build:web'], { cwd: root, stdio: 'inherit' })
    if (built.status !== 0) throw new Error('npm run build:web failed')
  }
  mkdirSync(shots, { recursive: true })
  const { chromium } = await import('playwright-core')

  const s3 = await startS3(t)
  // A bucket the gateway creates itself, so it also sets the CORS rule browsers need.
  const gw = await testGateway(t, { ...s3.env, PROOF_BUCKET: 'driver-e2e-proofs', PROOF_REQUIRED_FOR_DELIVERED: 'true' }, { bus: true })
  const base = (await gw.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1')
  const admin = await gw.user('admin', 'Ada Admin')
  const driver = await gw.user('driver', 'Dana Driver')
  const as = (token: string) => ({ authorization: `Bearer ${token}` })
  const apiGet = async <T,>(url: string) => (await gw.app.inject({ url: `/api/v1${url}`, headers: as(admin.token) })).json<T>()
  const pkg = await gw.packages.create({
    description: 'Espresso machine',
    sender: { name: 'Kaffee Haus', address: 'Berlin' },
    recipient: { name: 'Rita Recipient', address: '5 Marienplatz, Munich' },
    origin: { lat: 52.52, lng: 13.405, address: 'Berlin depot' },
    destination: { lat: 48.137, lng: 11.575, address: '5 Marienplatz, Munich' },
  })
  const tn = pkg.trackingNumber
  const moved = await gw.app.inject({ method: 'POST', url: `/api/v1/packages/${tn}/status`, headers: as(admin.token), payload: { status: 'in_transit' } })
  t.equal(moved.statusCode, 200, 'the package is on its way')

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
  t.teardown(() => browser.close())
  const problems: string[] = []
  const context = await browser.newContext({ viewport: PHONE, baseURL: base, hasTouch: true, isMobile: true, geolocation: HERE })
  await context.grantPermissions(['geolocation'], { origin: base })
  // Anything the Content-Security-Policy blocks is a problem, also where Chromium would only warn.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`))
  })
  const page = await context.newPage()
  page.on('pageerror', (err) => problems.push(`uncaught ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return
    // The refused "delivered" (409 proof_required) is expected; anything else is not.
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) return
    problems.push(`console error ${msg.text()}`)
  })
  const shot = (file: string) => page.screenshot({ path: join(shots, file), fullPage: true })
  const noSideways = async (t: Test, where: string) => t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), `${where}: no horizontal scrolling at 375 px`)
  const card = page.locator(`[data-delivery="${tn}"]`)

  await t.test('a driver signs in and lands on the driver view', async (t) => {
    await page.goto('/signin')
    await page.getByLabel('Email').fill(driver.email)
    await page.getByLabel('Password').fill(driver.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'My deliveries' }).waitFor(WAIT)
    await page.getByText('No offers right now').waitFor(WAIT)
    await until(() => gw.realtime.hub.hasSubscribers(`user:${driver.id}`), 'the driver to subscribe to the user channel')
    await noSideways(t, 'empty view')
    await shot('driver-empty.png')
  })

  await t.test('an offer arrives live and the driver accepts it', async (t) => {
    const offer = await gw.app.inject({ method: 'POST', url: `/api/v1/packages/${tn}/assignment`, headers: as(admin.token), payload: { driverId: driver.id } })
    t.equal(offer.statusCode, 201, 'an admin offers the package to the driver')
    const offered = page.locator(`[data-offer="${tn}"]`)
    // The card loads its package a moment after the offer appears.
    await offered.getByText('Berlin depot').waitFor(WAIT)
    t.match(await offered.textContent(), /Espresso machine.*Berlin depot.*Marienplatz/, 'the offer says what and where')
    await noSideways(t, 'offer')
    await shot('driver-offer.png')

    await page.getByRole('button', { name: `Accept ${tn}` }).click()
    await card.waitFor(WAIT)
    await offered.waitFor({ state: 'detached', ...WAIT })
    await card.locator('.route-origin').waitFor(WAIT)
    await card.locator('.route-destination').waitFor(WAIT)
    t.pass('the accepted delivery shows its route')
    const mine = await gw.app.inject({ url: '/api/v1/me/assignments?state=accepted', headers: as(driver.token) })
    t.same(mine.json<{ items: Array<{ trackingNumber: string }> }>().items.map((a) => a.trackingNumber), [tn], 'accepted on the server')
    const steps = await card.locator('[data-next]').evaluateAll((els) => els.map((e) => e.getAttribute('data-next')))
    t.same(steps, ['in_transit', 'out_for_delivery', 'available_for_pickup', 'exception', 'returned'], 'only the steps allowed from in transit')
    await noSideways(t, 'delivery')
    await shot('driver-accepted.png')
  })

  await t.test('the driver sets out for delivery; delivered first needs a proof', async (t) => {
    await card.getByRole('button', { name: 'Out for delivery' }).click()
    await card.locator('.badge[data-status="out_for_delivery"]').waitFor(WAIT)
    t.equal((await apiGet<{ status: string }>(`/packages/${tn}`)).status, 'out_for_delivery', 'the status changed on the server')
    await card.getByRole('button', { name: 'Delivered' }).click()
    await card.getByText(/proof photo is needed before this package can be marked delivered/).waitFor(WAIT)
    t.equal((await apiGet<{ status: string }>(`/packages/${tn}`)).status, 'out_for_delivery', 'not delivered without a proof')
    await shot('driver-proof-required.png')
  })

  await t.test('sharing the location sends the phone\'s position', async (t) => {
    await page.getByRole('switch', { name: 'Share my location' }).check()
    await page.getByText(/^Last sent at /).waitFor(WAIT)
    const { items } = await apiGet<{ items: Array<{ lat: number; lng: number }> }>(`/packages/${tn}/locations`)
    t.ok(items.some((p) => p.lat === HERE.latitude && p.lng === HERE.longitude), 'the fix arrived for the package')
    await card.getByTestId('current-position').waitFor(WAIT)
    t.pass('the route shows the new position')
    await noSideways(t, 'sharing')
    await shot('driver-location.png')
  })

  await t.test('a file that is not a photo is refused before any upload', async (t) => {
    await card.getByLabel('Take proof photo').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') })
    await card.getByText(/not a photo the app accepts \(text\/plain\)/).waitFor(WAIT)
    t.equal((await apiGet<{ items: unknown[] }>(`/packages/${tn}/proofs`)).items.length, 0, 'no proof recorded')
  })

  await t.test('a proof photo goes straight to storage with a progress bar', async (t) => {
    await card.getByLabel('Take proof photo').setInputFiles({ name: 'doorstep.png', mimeType: 'image/png', buffer: PNG })
    await card.locator('[data-proof-state="done"]').waitFor(WAIT)
    t.equal(await card.locator('progress').evaluate((p) => (p as HTMLProgressElement).value), 1, 'the progress bar is full')
    const { items } = await apiGet<{ items: Array<{ kind: string; sizeBytes: number; url: string }> }>(`/packages/${tn}/proofs`)
    t.equal(items.length, 1, 'the proof is listed')
    t.match(items[0], { kind: 'photo', sizeBytes: PNG.length })
    const stored = await fetch(items[0]!.url)
    t.equal(stored.status, 200, 'the object exists in the bucket')
    t.same(Buffer.from(await stored.arrayBuffer()), PNG, 'with the photo\'s bytes')
    await card.getByRole('img', { name: /Proof photo/ }).waitFor(WAIT)
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('.driver-proofs img')).every((i) => i.complete && i.naturalWidth > 0), undefined, WAIT)
    t.pass('its thumbnail loads from the bucket')
    t.equal(await card.getByText(/proof photo is needed/).count(), 0, 'the earlier refusal is cleared')
    await noSideways(t, 'proof')
    await shot('driver-proof.png')
  })

  await t.test('with the proof, delivered goes through and the delivery is done', async (t) => {
    await card.getByRole('button', { name: 'Delivered' }).click()
    await card.waitFor({ state: 'detached', ...WAIT })
    t.equal((await apiGet<{ status: string }>(`/packages/${tn}`)).status, 'delivered', 'delivered on the server')
    await page.getByText('No deliveries under way').waitFor(WAIT)
    await page.getByText(/On, waiting/).waitFor(WAIT)
    t.pass('sharing pauses without deliveries')
    await noSideways(t, 'done')
    await shot('driver-delivered.png')
  })

  await t.test('a declined offer goes away, and so does one dispatch withdraws', async (t) => {
    const other = await gw.user('driver', 'Otto Other')
    const offer = async (what: string) => {
      const p = await gw.packages.create({ description: what, sender: { name: 'Shop' }, recipient: { name: 'Rex', address: 'Lyon' } })
      const res = await gw.app.inject({ method: 'POST', url: `/api/v1/packages/${p.trackingNumber}/assignment`, headers: as(admin.token), payload: { driverId: driver.id } })
      t.equal(res.statusCode, 201)
      await page.locator(`[data-offer="${p.trackingNumber}"]`).waitFor(WAIT)
      return p
    }
    const declined = await offer('Bookshelf')
    await page.getByRole('button', { name: `Decline ${declined.trackingNumber}` }).click()
    await page.locator(`[data-offer="${declined.trackingNumber}"]`).waitFor({ state: 'detached', ...WAIT })
    const history = await apiGet<{ items: Array<{ state: string }> }>(`/packages/${declined.trackingNumber}/assignments`)
    t.same(history.items.map((a) => a.state), ['declined'], 'declined on the server')

    const withdrawn = await offer('Lamp')
    const current = await apiGet<{ version: number }>(`/packages/${withdrawn.trackingNumber}`)
    const res = await gw.app.inject({
      method: 'POST',
      url: `/api/v1/packages/${withdrawn.trackingNumber}/assignment`,
      headers: { ...as(admin.token), 'if-match': String(current.version) },
      payload: { driverId: other.id, replace: true },
    })
    t.equal(res.statusCode, 201, 'dispatch gives the lamp to another driver')
    await page.locator(`[data-offer="${withdrawn.trackingNumber}"]`).waitFor({ state: 'detached', ...WAIT })
    t.pass('the withdrawn offer disappears live')
    await noSideways(t, 'offers answered')
  })

  await t.test('no console errors or CSP violations', async (t) => {
    await context.close()
    t.same(problems, [])
  })
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 40))
  if (!check()) throw new Error(`timed out waiting for ${what}`)
}

if (!existsSync(CHROMIUM)) {
  t.plan(0, `no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` to run the browser tests`)
} else {
  await t.test('the driver view in Chromium at phone size, against a real gateway and S3', run)
}
