// A customer places an order in Debian's Chromium (issue 20): the form checks as it
// is typed, and neither a double click nor a reload while the order is on its way
// places it twice. Screenshots go to test-artifacts/.
import type { Test } from 'tap'
import { testGateway } from '../../internal/app/testing/gateway.js'
import { WAIT, browserTest, launchChromium, prepareConsole, shot } from './harness.js'

async function run(t: Test) {
  prepareConsole(t)
  const gw = await testGateway(t)
  const base = (await gw.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1')
  const cora = await gw.user('customer', 'Cora Customer')
  const orders = async (note: string) => (await gw.pool.query('SELECT 1 FROM packages WHERE customer_id = $1 AND description = $2', [cora.id, note])).rowCount

  const chromium = await launchChromium(t)
  const page = await chromium.newPage(await chromium.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base }), 'customer')
  await page.goto('/signin')
  await page.getByLabel('Email').fill(cora.email)
  await page.getByLabel('Password').fill(cora.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor(WAIT)

  const fill = async (note: string) => {
    await page.getByRole('link', { name: 'Place an order' }).first().click()
    await page.getByRole('heading', { name: 'Place an order' }).waitFor(WAIT)
    await page.getByLabel('Pickup address').fill('1 Home Street, Berlin')
    await page.getByLabel('Recipient', { exact: true }).fill('Rita')
    await page.getByLabel('Delivery address').fill('2 Far Road, Munich')
    await page.getByLabel('Item 1', { exact: true }).fill('Books')
    await page.getByLabel('Note for the driver').fill(note)
  }

  await t.test('the form says what is wrong as it is typed', async (t) => {
    await fill('checked as typed')
    const email = page.getByLabel('Recipient email')
    await email.fill('rita@')
    await page.getByText('Enter an email address like name@example.com').waitFor(WAIT)
    t.equal(await email.getAttribute('aria-invalid'), 'true')
    await page.getByLabel('Quantity of item 1').fill('0')
    await page.getByText('A whole number from 1 to 10000.').waitFor(WAIT)
    await shot(page, 'place-order-errors.png')
    await email.fill('rita@example.com')
    await page.getByLabel('Quantity of item 1').fill('2')
    await page.getByText('Enter an email address like name@example.com').waitFor({ state: 'detached', ...WAIT })
    t.equal(await page.locator('.field-error').count(), 0, 'no message once the fields are right')
  })

  await t.test('a double click places one order and opens it', async (t) => {
    await page.getByRole('button', { name: 'Place order' }).dblclick()
    await page.waitForURL(/\/packages\/DT[A-Z2-7]{11}$/, WAIT)
    t.equal(await orders('checked as typed'), 1)
    const tn = page.url().split('/').pop()!
    await page.getByRole('link', { name: 'My packages' }).click()
    await page.locator(`[data-tn="${tn}"]`).waitFor(WAIT)
    t.pass('the order is on My packages')
  })

  await t.test('a reload while the order is on its way places it once', async (t) => {
    await fill('reloaded mid-submit')
    let reloaded = false
    // The first POST reaches the gateway, then the page reloads before its answer arrives.
    await page.route('**/api/v1/packages', async (route) => {
      if (route.request().method() !== 'POST' || reloaded) return route.continue()
      reloaded = true
      await route.fetch()
      void page.reload()
    })
    await page.getByRole('button', { name: 'Place order' }).click()
    await page.waitForURL(/\/packages\/DT[A-Z2-7]{11}$/, WAIT)
    t.ok(reloaded, 'the page was reloaded mid-submit')
    t.equal(await orders('reloaded mid-submit'), 1, 'the resend after the reload got the same order')
    t.equal(await page.evaluate(() => sessionStorage.getItem('delivertrack.pendingOrder')), null, 'nothing left to resend')
    await shot(page, 'place-order-placed.png')
  })

  await t.test('no console errors', (t) => chromium.assertNoProblems(t))
}

await browserTest('placing an order in Chromium', run)
