// End-to-end for the staff tools of issue 18 in Debian's Chromium: the driver picker
// and assignment history, proof photos from object storage, the notifications bell
// and the delivery charts, against one real gateway with the inbox and metrics
// workers and an S3 server. Screenshots go to test-artifacts/.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { projectRoot } from '../../internal/platform/paths.js'
import { bearer } from '../../internal/app/testing/gateway.js'
import { startWorker, workerGateway } from '../../internal/app/testing/worker.js'
import { testVhost } from '../../internal/platform/testing/broker.js'
import { startS3 } from '../../internal/platform/testing/s3.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync']
const root = projectRoot()
const shots = join(root, 'test-artifacts')
const WAIT = { timeout: 20_000 }
const BERLIN = { lat: 52.52, lng: 13.405, address: 'Berlin' }

const shot = (page: Page, file: string) => page.screenshot({ path: join(shots, file), fullPage: true })

async function run(t: Test) {
  if (!existsSync(join(root, 'web', 'dist', 'index.html'))) {
    const built = spawnSync('npm', ['run', 'build:web'], { cwd: root, stdio: 'inherit' })
    if (built.status !== 0) throw new Error('npm run build:web failed')
  }
  mkdirSync(shots, { recursive: true })
  const { chromium } = await import('playwright-core')

  const amqpUrl = await testVhost(t)
  const s3 = await startS3(t, 'delivertrack-proofs-e2e')
  const gw = await workerGateway(t, amqpUrl, { ...s3.env, PROOF_BUCKET: s3.bucket })
  await startWorker(t, { iso: gw, amqpUrl, roles: ['inbox', 'metrics'] })
  const base = (await gw.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1')
  const call = async (method: 'GET' | 'POST', path: string, token: string, payload?: object) => {
    const res = await gw.app.inject({ method, url: `/api/v1${path}`, headers: bearer(token), ...(payload ? { payload } : {}) })
    return { status: res.statusCode, body: res.body ? (res.json() as Record<string, unknown>) : {} }
  }

  const admin = await gw.user('admin', 'Ada Admin')
  const dana = await gw.user('driver', 'Dana Driver')
  await gw.user('driver', 'Ed Idle')
  const owner = await gw.user('customer', 'Cora Customer')
  // Dana already carries one package and has reported her position near Potsdam (about 27 km from Berlin).
  const first = await gw.packages.create({ sender: { name: 'Acme' }, recipient: { name: 'Rita' }, origin: BERLIN })
  t.equal((await call('POST', `/packages/${first.trackingNumber}/assignment`, admin.token, { driverId: dana.id })).status, 201)
  t.equal((await call('POST', `/packages/${first.trackingNumber}/assignment/accept`, dana.token)).status, 200)
  const fix = await call('POST', '/me/locations', dana.token, { points: [{ lat: 52.39, lng: 13.065, recordedAt: new Date().toISOString() }] })
  t.equal(fix.status, 202, 'Dana reports her position')
  const pkg = await gw.packages.create({ description: 'Standing desk', sender: { name: 'Acme' }, recipient: { name: 'Cora Customer' }, origin: BERLIN, customerId: owner.id })
  const tn = pkg.trackingNumber

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
  t.teardown(() => browser.close())
  const problems: string[] = []
  const contexts: BrowserContext[] = []
  const signedIn = async (name: string, user: { email: string; password: string }) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base })
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`))
    })
    contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (err) => problems.push(`${name}: uncaught ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return
      if (/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) return
      problems.push(`${name}: console error ${msg.text()}`)
    })
    await page.goto('/signin')
    await page.getByLabel('Email').fill(user.email)
    await page.getByLabel('Password').fill(user.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('button', { name: 'Sign out' }).waitFor(WAIT)
    await page.locator('[data-link="open"]').waitFor(WAIT)
    return page
  }

  const adminPage = await signedIn('admin', admin)
  const history = adminPage.getByRole('table', { name: 'Assignment history' })

  await t.test('an admin assigns a driver through the picker, seeing load and distance', async (t) => {
    await adminPage.goto(`/packages/${tn}`)
    await adminPage.getByRole('heading', { name: 'Standing desk' }).waitFor(WAIT)
    await adminPage.getByText('Not offered to a driver yet.').waitFor(WAIT)
    await adminPage.getByRole('button', { name: 'Assign driver' }).click()
    const dialog = adminPage.getByRole('dialog', { name: `Assign ${tn}` })
    const danaRow = dialog.locator('[data-driver="Dana Driver"]')
    await danaRow.waitFor(WAIT)
    t.equal(await danaRow.getByTestId('load').textContent(), '1 active package', 'her load')
    t.equal(await danaRow.getByTestId('distance').textContent(), '27.2 km', 'her distance from the origin')
    t.equal(await dialog.locator('[data-driver="Ed Idle"] [data-testid="distance"]').textContent(), 'no position')
    t.same(await dialog.locator('[data-driver]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-driver'))), ['Dana Driver', 'Ed Idle'], 'a driver with a position comes first')
    await shot(adminPage, 'staff-assign-picker.png')
    await dialog.getByRole('button', { name: 'Assign to Dana Driver' }).click()
    await dialog.waitFor({ state: 'detached', ...WAIT })
    await history.locator('tr', { hasText: 'Dana Driver' }).locator('[data-state="offered"]').waitFor(WAIT)
    t.pass('the history shows the offer')
  })

  await t.test('the driver accepts through the API and the history follows live', async (t) => {
    await adminPage.evaluate(() => ((window as unknown as { marker: number }).marker = 7))
    t.equal((await call('POST', `/packages/${tn}/assignment/accept`, dana.token)).status, 200)
    await history.locator('tr', { hasText: 'Dana Driver' }).locator('[data-state="accepted"]').waitFor(WAIT)
    t.equal(await adminPage.evaluate(() => (window as unknown as { marker?: number }).marker), 7, 'without a reload')
  })

  await t.test('a proof uploaded through the API appears as an image that loads', async (t) => {
    const grant = await call('POST', `/packages/${tn}/proofs/uploads`, admin.token, { contentType: 'image/png', sizeBytes: 64 * 1024 })
    t.equal(grant.status, 201)
    // A real 40x30 PNG: a piece of the page itself.
    const file = await adminPage.screenshot({ clip: { x: 0, y: 0, width: 40, height: 30 } })
    const { url, fields } = grant.body as { url: string; fields: Record<string, string> }
    const form = new FormData()
    for (const [k, v] of Object.entries(fields)) form.append(k, v)
    form.append('file', new Blob([new Uint8Array(file)], { type: 'image/png' }), 'proof.png')
    const posted = await fetch(url, { method: 'POST', body: form })
    t.ok(posted.ok, 'the file went straight to the bucket')
    t.equal((await call('POST', `/packages/${tn}/proofs`, admin.token, { uploadId: grant.body.uploadId, kind: 'photo' })).status, 201)
    const img = adminPage.locator('.proofs img').first()
    await img.waitFor(WAIT)
    await adminPage.waitForFunction(() => (document.querySelector('.proofs img') as HTMLImageElement | null)?.naturalWidth === 40, undefined, WAIT)
    t.pass('the photo loaded from the bucket under the console policy')
    t.match(await adminPage.locator('.proof').first().textContent(), /photo.*you/i, 'kind and uploader')
    await shot(adminPage, 'staff-package-detail.png')
  })

  await t.test('replacing an active assignment asks first, then cancels the old one', async (t) => {
    await adminPage.getByRole('button', { name: 'Assign driver' }).click()
    const dialog = adminPage.getByRole('dialog', { name: `Assign ${tn}` })
    await dialog.getByRole('button', { name: 'Assign to Ed Idle' }).click()
    const alert = dialog.getByRole('alert')
    await alert.waitFor(WAIT)
    t.match(await alert.textContent(), /Dana Driver already has this package \(accepted\)/, 'the conflict in words')
    await dialog.getByRole('button', { name: 'Replace' }).click()
    await dialog.waitFor({ state: 'detached', ...WAIT })
    await history.locator('tr', { hasText: 'Ed Idle' }).locator('[data-state="offered"]').waitFor(WAIT)
    await history.locator('tr', { hasText: 'Dana Driver' }).locator('[data-state="cancelled"]').waitFor(WAIT)
    t.pass('Ed has the offer; Dana’s assignment was cancelled')
  })

  await t.test('the packages table names each driver and offers the picker', async (t) => {
    await adminPage.getByRole('link', { name: 'Packages', exact: true }).click()
    const row = adminPage.locator(`tr[data-tn="${tn}"]`)
    await row.locator('td[data-label="Driver"]', { hasText: 'Ed Idle' }).waitFor(WAIT)
    t.match(await adminPage.locator(`tr[data-tn="${first.trackingNumber}"] td[data-label="Driver"]`).textContent(), 'Dana Driver')
    await row.getByRole('button', { name: `Assign a driver to ${tn}` }).click()
    const dialog = adminPage.getByRole('dialog', { name: `Assign ${tn}` })
    const edButton = dialog.locator('[data-driver="Ed Idle"]').getByRole('button')
    await edButton.waitFor(WAIT)
    t.equal(await edButton.textContent(), 'Assigned', 'the current driver is marked in the picker')
    t.ok(await edButton.isDisabled(), 'and cannot be offered it again')
    await adminPage.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached', ...WAIT })
  })

  await t.test("the owner's bell counts status changes live and empties when read", async (t) => {
    const customer = await signedIn('customer', owner)
    const bell = customer.locator('.bell-button')
    await customer.waitForFunction(() => document.querySelector('.bell-button')?.getAttribute('data-unread') === '0', undefined, WAIT)
    await until(() => gw.realtime.hub.hasSubscribers(`user:${owner.id}`), 'the customer to subscribe to the user channel')
    const move = async (status: string) => t.equal((await call('POST', `/packages/${tn}/status`, admin.token, { status })).status, 200, `moved to ${status}`)
    const unread = (n: number) => customer.waitForFunction((n) => document.querySelector('.bell-button')?.getAttribute('data-unread') === String(n), n, WAIT)

    await move('in_transit')
    await unread(1)
    t.equal(await bell.getAttribute('aria-label'), 'Notifications, 1 unread', 'the count arrives live')
    await bell.click()
    const item = customer.locator('.bell-item').first()
    await item.waitFor(WAIT)
    t.match(await item.textContent(), new RegExp(tn), 'the notice names the package')
    await shot(customer, 'staff-bell.png')
    await item.getByRole('link').click()
    await unread(0)
    t.equal(new URL(customer.url()).pathname, `/packages/${tn}`, 'opening a notice leads to its package and marks it read')
    const moved = (page: typeof customer) => page.locator('.timeline-item[data-type="package.status_changed"]').first()
    await moved(customer).waitFor(WAIT)
    t.equal(await customer.locator('.timeline-actor').count(), 0, 'the customer never sees who made a change')
    await adminPage.goto(`/packages/${tn}`)
    await moved(adminPage).locator('.timeline-actor').waitFor(WAIT)
    t.match(await moved(adminPage).textContent(), /moved to In transit by Ada Admin \(admin\)/i, 'staff see who moved it')

    await move('out_for_delivery')
    await move('failed_attempt')
    await unread(2)
    await bell.click()
    // The count drops at once (optimistic); the server's answer follows.
    const answered = customer.waitForResponse((r) => r.url().endsWith('/me/notifications/read-all'), WAIT)
    await customer.getByRole('button', { name: 'Mark all read' }).click()
    await unread(0)
    t.equal((await answered).status(), 204)
    t.equal((await call('GET', '/me/notifications', owner.token)).body.unread, 0, 'read on the server too')
  })

  await t.test('the dashboard shows today’s orders and the drivers’ deliveries', async (t) => {
    t.equal((await call('POST', `/packages/${first.trackingNumber}/status`, admin.token, { status: 'in_transit' })).status, 200)
    t.equal((await call('POST', `/packages/${first.trackingNumber}/status`, admin.token, { status: 'out_for_delivery' })).status, 200)
    t.equal((await call('POST', `/packages/${first.trackingNumber}/status`, admin.token, { status: 'delivered' })).status, 200)
    await adminPage.getByRole('link', { name: 'Operations' }).click()
    const today = adminPage.getByTestId('orders-today')
    await adminPage.waitForFunction(() => /Today: 2 created, 1 delivered/.test(document.querySelector('[data-testid="orders-today"]')?.textContent ?? ''), undefined, { timeout: 40_000 })
    t.match(await today.textContent(), /Today: 2 created, 1 delivered/, 'today’s figures')
    await adminPage.getByRole('img', { name: /Orders by day, last 30 days: 2 created and 1 delivered/ }).waitFor(WAIT)
    const drivers = adminPage.getByRole('img', { name: /Deliveries by driver: Dana Driver 1 \(median / })
    await drivers.waitFor(WAIT)
    t.pass('both charts are drawn')
    await shot(adminPage, 'staff-dashboard.png')
  })

  await t.test('no console errors or policy violations on any page', async (t) => {
    for (const c of contexts) await c.close()
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
  await t.test('the staff console in Chromium against a real gateway with workers and S3', run)
}
