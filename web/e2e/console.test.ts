// End-to-end: the built web console in Debian's Chromium, driven by playwright-core,
// against a real gateway (PostgreSQL, Redis, RabbitMQ) on an ephemeral port.
// Screenshots of the main pages go to test-artifacts/.
import type { Test } from 'tap'
import { testGateway } from '../../internal/app/testing/gateway.js'
import { WAIT, browserTest, launchChromium, prepareConsole, shot, until } from './harness.js'

async function run(t: Test) {
  prepareConsole(t)

  const gw = await testGateway(t, {}, { bus: true })
  const base = (await gw.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1')
  const admin = await gw.user('admin', 'Ada Admin')
  const in2days = new Date(Date.now() + 2 * 86_400_000)
  const pkg = await gw.packages.create({
    description: 'Noise-cancelling headphones',
    sender: { name: 'Acme Audio' },
    recipient: { name: 'Cora Customer' },
    origin: { lat: 52.52, lng: 13.405, address: 'Berlin' },
    destination: { lat: 48.137, lng: 11.575, address: 'Munich' },
    estimatedDelivery: in2days,
  })
  const tn = pkg.trackingNumber

  const chromium = await launchChromium(t)
  const newPage = async (name: string, viewport = { width: 1280, height: 860 }) =>
    chromium.newPage(await chromium.newContext({ viewport, baseURL: base }), name)
  const email = `cora-${Date.now()}@example.com`
  const customer = await newPage('customer')

  await t.test('a customer signs up and starts with an empty list', async (t) => {
    const page = await customer.goto('/signup')
    t.match(page?.headers()['content-security-policy'], /script-src 'self'/, 'the console runs under its Content-Security-Policy')
    await customer.getByLabel('Name').fill('Cora Customer')
    await customer.getByLabel('Email').fill(email)
    await customer.getByLabel('Password').fill('correct horse battery')
    await customer.getByRole('button', { name: 'Create account' }).click()
    await customer.getByRole('heading', { name: 'My packages' }).waitFor(WAIT)
    t.equal(new URL(customer.url()).pathname, '/', 'lands on the order history')
    await customer.getByText('No packages yet').waitFor(WAIT)
    await customer.locator('[data-link="open"]').waitFor(WAIT)
    t.pass('the connection indicator shows the live link')
    // The shop names her as the owner of the headphones: she will see them in full.
    const { rows } = await gw.pool.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email])
    const owned = await gw.app.inject({ method: 'PATCH', url: `/api/v1/packages/${tn}`, headers: { authorization: `Bearer ${admin.token}` }, payload: { customerId: rows[0]!.id } })
    t.equal(owned.statusCode, 200, 'she owns the headphones')
  })

  await t.test('the Track Package modal shows bad numbers inline and closes with Esc', async (t) => {
    const opener = customer.getByRole('button', { name: 'Track Package' })
    await opener.click()
    const dialog = customer.getByRole('dialog', { name: 'Track a package' })
    await dialog.waitFor(WAIT)
    t.equal(await customer.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name), 'trackingNumber', 'focus starts in the tracking number field')

    await dialog.getByLabel('Tracking number').fill('bad!')
    await dialog.getByRole('button', { name: 'Track Package' }).click()
    const alert = dialog.getByRole('alert')
    await alert.waitFor(WAIT)
    t.match(await alert.textContent(), /8 to 30 letters/, 'a malformed number (400) is explained inline')
    await shot(customer, 'track-modal-error.png')

    await dialog.getByLabel('Tracking number').fill('ZZZZ99999999')
    await dialog.getByRole('button', { name: 'Track Package' }).click()
    await dialog.getByText('could not find a package').waitFor(WAIT)
    t.pass('an unknown number (404) is explained inline')

    await customer.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached', ...WAIT })
    await customer.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Track Package', undefined, { timeout: 5_000 }).catch(() => undefined)
    t.equal(await customer.evaluate(() => document.activeElement?.textContent?.trim()), 'Track Package', 'focus returns to the button that opened it')
  })

  await t.test('adding a package through the modal shows it at once', async (t) => {
    await customer.getByRole('button', { name: 'Track Package' }).click()
    const dialog = customer.getByRole('dialog', { name: 'Track a package' })
    await dialog.getByLabel('Tracking number').fill(tn.toLowerCase())
    await dialog.getByLabel(/Label/).fill('New headphones')
    await dialog.getByRole('button', { name: 'Track Package' }).click()
    await dialog.waitFor({ state: 'detached', ...WAIT })
    const card = customer.locator(`[data-tn="${tn}"]`)
    await card.waitFor(WAIT)
    t.match(await card.textContent(), /New headphones/)
    t.equal(await card.locator('[data-status]').getAttribute('data-status'), 'pending')
    await shot(customer, 'my-packages.png')
  })

  await t.test("a stranger's number shows its public view, and it updates live", async (t) => {
    const other = await gw.packages.create({ description: 'Someone else’s parcel', sender: { name: 'Sid Sender' }, recipient: { name: 'Rhea Recipient', address: '7 Private Road' } })
    await customer.getByRole('button', { name: 'Track Package' }).click()
    const dialog = customer.getByRole('dialog', { name: 'Track a package' })
    await dialog.getByLabel('Tracking number').fill(other.trackingNumber)
    await dialog.getByRole('button', { name: 'Track Package' }).click()
    await dialog.waitFor({ state: 'detached', ...WAIT })
    const card = customer.locator(`[data-tn="${other.trackingNumber}"]`)
    await card.waitFor(WAIT)
    t.equal(await card.getAttribute('data-view'), 'public', 'the public view')
    t.notMatch(await customer.content(), /Rhea Recipient|Private Road|Sid Sender|Someone else/, 'no names, addresses or descriptions')
    const moved = await gw.app.inject({ method: 'POST', url: `/api/v1/packages/${other.trackingNumber}/status`, headers: { authorization: `Bearer ${admin.token}` }, payload: { status: 'in_transit' } })
    t.equal(moved.statusCode, 200)
    await card.locator('[data-status="in_transit"]').waitFor(WAIT)
    t.pass('the new status arrives on the user channel')
    t.equal(await card.getByRole('link', { name: `Details of ${other.trackingNumber}` }).getAttribute('href'), `/track/${other.trackingNumber}`, 'its details are the public page')
    await card.getByRole('button', { name: `Remove ${other.trackingNumber} from my list` }).click()
    await card.waitFor({ state: 'detached', ...WAIT })
  })

  const adminPage = await newPage('admin')
  await t.test('an admin in another browser context moves the package on; the customer sees it without reload', async (t) => {
    await customer.evaluate(() => ((window as unknown as { marker: number }).marker = 42))
    const userId = await customer.evaluate(() => (JSON.parse(localStorage.getItem('delivertrack.session') ?? '{}') as { user?: { id: string } }).user?.id)
    await until(() => gw.realtime.hub.hasSubscribers(`user:${userId}`), 'the customer to subscribe to its user channel')

    await adminPage.goto('/signin')
    await adminPage.getByLabel('Email').fill(admin.email)
    await adminPage.getByLabel('Password').fill(admin.password)
    await adminPage.getByRole('button', { name: 'Sign in' }).click()
    const row = adminPage.locator(`tr[data-tn="${tn}"]`)
    await row.waitFor(WAIT)
    await shot(adminPage, 'admin-packages.png')

    await adminPage.getByRole('button', { name: `Update status of ${tn}` }).click()
    const dialog = adminPage.getByRole('dialog', { name: `Update ${tn}` })
    await dialog.waitFor(WAIT)
    await shot(adminPage, 'status-dialog.png')
    const options = await dialog.getByLabel('New status').locator('option').allTextContents()
    t.same(options, ['Info received', 'In transit', 'Exception', 'Cancelled', 'Expired'], 'only the transitions allowed from pending are offered')
    await dialog.getByLabel('New status').selectOption('in_transit')
    await dialog.getByLabel(/Note/).fill('Left the Berlin hub')
    await dialog.getByRole('button', { name: 'Update status' }).click()
    await dialog.waitFor({ state: 'detached', ...WAIT })
    await row.locator('[data-status="in_transit"]').waitFor(WAIT)

    await customer.locator(`[data-tn="${tn}"] [data-status="in_transit"]`).waitFor(WAIT)
    t.equal(await customer.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the customer page was not reloaded')
  })

  await t.test('the package detail shows the timeline and the route, and the position moves live', async (t) => {
    await customer.getByRole('link', { name: `Details of ${tn}` }).click()
    await customer.getByRole('heading', { name: 'Noise-cancelling headphones' }).waitFor(WAIT)
    await customer.getByText('Left the Berlin hub').waitFor(WAIT)
    // The map draws its markers a moment after the timeline: wait for them, fail if they never come.
    const drawn = (selector: string) => customer.locator(selector).first().waitFor(WAIT).then(() => true, () => false)
    t.ok(await drawn('.route-origin'), 'origin on the map')
    t.ok(await drawn('.route-destination'), 'destination on the map')
    await until(() => gw.realtime.hub.hasSubscribers(`package:${tn}`), 'the detail page to subscribe to the package channel')

    // The admin registers a tracker for the package in the console; the key is shown once.
    await adminPage.getByRole('link', { name: 'Devices' }).click()
    await adminPage.getByLabel('Name').fill('Van 12 tracker')
    await adminPage.getByLabel(/Package/).fill(tn)
    await adminPage.getByRole('button', { name: 'Register device' }).click()
    const key = (await adminPage.getByTestId('secret').textContent({ timeout: WAIT.timeout }))?.trim() ?? ''
    t.match(key, /\S{20,}/, 'the API key is shown')
    await adminPage.locator('tr[data-device="Van 12 tracker"]').waitFor(WAIT)
    await shot(adminPage, 'admin-devices.png')

    const at = (s: number) => new Date(Date.now() - s * 1000).toISOString()
    const post = async (points: Array<{ lat: number; lng: number; recordedAt: string }>) => {
      const res = await fetch(`${base}/api/v1/locations`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ points }) })
      t.equal(res.status, 202, 'the device reports its positions')
    }
    await post([{ lat: 51.9, lng: 12.9, recordedAt: at(60) }, { lat: 51.3, lng: 12.4, recordedAt: at(30) }])
    const current = customer.getByTestId('current-position')
    await current.waitFor(WAIT)
    const before = await current.getAttribute('transform')
    await post([{ lat: 50.1, lng: 11.9, recordedAt: at(1) }])
    await customer.waitForFunction((b) => document.querySelector('[data-testid="current-position"]')?.getAttribute('transform') !== b, before, WAIT)
    t.pass('the last position moved without a reload')
    await shot(customer, 'package-detail.png')
  })

  await t.test('given to another owner, the open detail page turns into the public view without a reload', async (t) => {
    const { rows } = await gw.pool.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email])
    const owner = (customerId: string) => gw.app.inject({ method: 'PATCH', url: `/api/v1/packages/${tn}`, headers: { authorization: `Bearer ${admin.token}` }, payload: { customerId } })
    const someoneElse = await gw.user('customer')
    t.equal((await owner(someoneElse.id)).statusCode, 200, 'an admin hands the package to another customer')
    await customer.getByText('You follow this package by its tracking number').waitFor(WAIT)
    t.notOk(gw.realtime.hub.hasSubscribers(`package:${tn}`), 'the package channel was withdrawn')
    t.equal(await customer.locator('.route-origin').count(), 0, 'the route is gone')
    t.notMatch(await customer.content(), /Acme Audio|Noise-cancelling/, 'and the sender and description')
    t.equal(await customer.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the page was not reloaded')
    await shot(customer, 'package-detail-withdrawn.png')
    t.equal((await owner(rows[0]!.id)).statusCode, 200, 'handed back for the rest of the story')
  })

  await t.test('a guest follows the public page live', async (t) => {
    const guest = await newPage('guest')
    await guest.goto('/')
    await guest.getByRole('heading', { name: 'Where is my package?' }).waitFor(WAIT)
    await shot(guest, 'home.png')
    await guest.getByLabel('Tracking number').fill(tn.toLowerCase())
    await guest.getByRole('button', { name: 'Track', exact: true }).click()
    await guest.locator('[data-status="in_transit"]').first().waitFor(WAIT)
    t.equal(new URL(guest.url()).pathname, `/track/${tn}`, 'the start page leads to the public page')
    t.notMatch(await guest.content(), /Cora Customer|Acme Audio/, 'no names on the public page')
    await until(() => gw.realtime.hub.hasSubscribers(`track:${tn}`), 'the guest to subscribe to the track channel')
    const res = await gw.app.inject({ method: 'POST', url: `/api/v1/packages/${tn}/status`, headers: { authorization: `Bearer ${admin.token}` }, payload: { status: 'out_for_delivery', location: { lat: 48.2, lng: 11.6, city: 'Munich' } } })
    t.equal(res.statusCode, 200)
    await guest.locator('.public-status [data-status="out_for_delivery"]').waitFor(WAIT)
    await guest.getByText('Munich').first().waitFor(WAIT)
    t.pass('the new status and city arrive on the track channel')
    await shot(guest, 'public-track.png')
  })

  await t.test('an admin creates a package and deletes it after confirming', async (t) => {
    await adminPage.getByRole('link', { name: 'Packages' }).click()
    await adminPage.getByRole('button', { name: 'New package' }).click()
    const dialog = adminPage.getByRole('dialog', { name: 'New package' })
    await dialog.getByLabel('Sender').fill('Corner Shop')
    await dialog.getByLabel('Recipient', { exact: true }).fill('Bob Buyer')
    await dialog.getByLabel('Description').fill('Garden chair')
    await shot(adminPage, 'create-package.png')
    await dialog.getByRole('button', { name: 'Create package' }).click()
    await dialog.waitFor({ state: 'detached', ...WAIT })
    const notice = adminPage.getByText(/^Created DT/)
    await notice.waitFor(WAIT)
    const created = /DT[A-Z0-9]+/.exec((await notice.textContent()) ?? '')?.[0] ?? ''
    const row = adminPage.locator(`tr[data-tn="${created}"]`)
    await row.waitFor(WAIT)
    t.match(await row.textContent(), /Bob Buyer/, 'the new package is listed')

    await adminPage.getByRole('button', { name: `Delete ${created}` }).click()
    const confirm = adminPage.getByRole('dialog', { name: 'Delete package?' })
    await confirm.waitFor(WAIT)
    t.equal(await adminPage.evaluate(() => document.activeElement?.textContent?.trim()), 'Cancel', 'the safe choice has the focus')
    await confirm.getByRole('button', { name: 'Delete package' }).click()
    await row.waitFor({ state: 'detached', ...WAIT })
    const gone = await gw.app.inject({ url: `/api/v1/packages/${created}`, headers: { authorization: `Bearer ${admin.token}` } })
    t.equal(gone.statusCode, 404, 'deleted on the server')
  })

  await t.test('the operations dashboard and a phone-width order history render', async (t) => {
    await adminPage.getByRole('link', { name: 'Operations' }).click()
    await adminPage.getByRole('heading', { name: 'Packages by status' }).waitFor(WAIT)
    await adminPage.locator('svg.chart').first().waitFor(WAIT)
    // The dashboard polls: a second sample draws the connections chart.
    await adminPage.getByRole('img', { name: /Open WebSocket connections/ }).waitFor(WAIT)
    t.pass('the dashboard refreshed itself')
    await shot(adminPage, 'admin-stats.png')
    await adminPage.getByRole('link', { name: 'Users' }).click()
    await adminPage.getByRole('heading', { name: 'New service client' }).waitFor(WAIT)

    const phone = await newPage('phone', { width: 390, height: 844 })
    await phone.goto('/signin')
    await phone.getByLabel('Email').fill(email)
    await phone.getByLabel('Password').fill('correct horse battery')
    await phone.getByRole('button', { name: 'Sign in' }).click()
    await phone.locator(`[data-tn="${tn}"] [data-status="out_for_delivery"]`).waitFor(WAIT)
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    t.ok(overflow <= 1, 'no horizontal scrolling at phone width')
    await shot(phone, 'my-packages-phone.png')
    t.pass()
  })

  await t.test('the API documentation renders under its own policy', async (t) => {
    const docs = await newPage('docs')
    const page = await docs.goto('/docs')
    t.match(page?.headers()['content-security-policy'], /default-src 'self'/)
    await docs.getByText('/api/v1/packages/{trackingNumber}/status').first().waitFor(WAIT)
    t.pass('Swagger UI lists the operations')
    await shot(docs, 'api-docs.png')
  })

  await t.test('no console errors on any page', (t) => chromium.assertNoProblems(t))
}

await browserTest('the web console in Chromium against a real gateway', run)
