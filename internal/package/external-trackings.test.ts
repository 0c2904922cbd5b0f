import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { api, errorBody } from './fixtures.test.js'

// F3: a number a customer registers with a carrier is an external tracking. A
// shop's later package with that number must not land on it, and registering a
// number first must never make the customer the owner of someone else's parcel.

t.test('external trackings and shop packages with the same number', async (t) => {
  const gw = await testGateway(t)
  const { call, get } = api(gw)
  const admin = await gw.user('admin')
  const early = await gw.user('customer')
  const buyer = await gw.user('customer')
  const service = await gw.serviceToken()
  const tn = 'SHOPORDER0001'
  const shopPackage = { trackingNumber: tn, sender: { name: 'The Shop' }, recipient: { name: 'Bea Buyer', address: '3 Buyer Street', phone: '+133' } }

  const registered = await call('POST', '/me/trackings', { token: early.token, payload: { trackingNumber: tn, carrier: 'ups' } })
  t.equal(registered.statusCode, 201, 'a customer registers the number with a carrier first')

  const refused = await call('POST', '/packages', { token: service, payload: { ...shopPackage, customerId: buyer.id } })
  t.equal(refused.statusCode, 409, "the shop's package does not land on it")
  t.match(refused.json(), { ...errorBody(409, 'external_tracking'), message: /SHOPORDER0001.*ups/, details: [{ path: '/trackingNumber' }] })
  t.match(await get(admin.token, tn), { external: true, recipient: { name: 'Unknown recipient' } }, 'the external tracking is unchanged')

  const update = await call('POST', `/packages/${tn}/status`, { token: service, payload: { status: 'in_transit', note: 'shop scan' } })
  t.match([update.statusCode, update.json()], [409, errorBody(409, 'external_tracking')], "nor do the shop's status updates")
  t.equal((await get(admin.token, tn)).status, 'pending')

  const byService = await call('POST', '/packages', { token: service, payload: { ...shopPackage, mergeExternal: true } })
  t.equal(byService.statusCode, 403, 'only an admin merges')

  const driver = await gw.user('driver')
  const withDriver = await call('POST', '/packages', { token: admin.token, payload: { ...shopPackage, driverId: driver.id, mergeExternal: true } })
  t.match([withDriver.statusCode, withDriver.json()], [400, { code: 'validation_failed', details: [{ path: '/driverId' }] }], 'a merge names no driver: that is an assignment')
  t.ok((await get(admin.token, tn)).external, 'and it merged nothing')

  const merged = await call('POST', '/packages', { token: admin.token, payload: { ...shopPackage, customerId: buyer.id, mergeExternal: true } })
  t.equal(merged.statusCode, 200, merged.body)
  t.match(merged.json(), { trackingNumber: tn, carrier: 'ups', customerId: buyer.id, recipient: { name: 'Bea Buyer' }, view: 'full' })
  t.notOk(merged.json().external, 'no longer external')
  const events = (await call('GET', `/packages/${tn}/events`, { token: admin.token })).json().items
  t.match(events.at(-1), { type: 'package.updated', data: { mergedExternal: true, changes: { customerId: buyer.id } } })

  t.equal((await get(buyer.token, tn)).view, 'full', 'the named owner sees it in full')
  const stillTracker = await call('GET', `/packages/${tn}`, { token: early.token })
  t.equal(stillTracker.json().view, 'public', 'who registered it first only tracks it')
  const list = await call('GET', '/me/trackings', { token: early.token })
  t.notMatch(stillTracker.body + list.body, /Bea Buyer|Buyer Street|\+133/, 'and never sees the buyer')

  const again = await call('POST', '/packages', { token: admin.token, payload: { ...shopPackage, mergeExternal: true } })
  t.match([again.statusCode, again.json()], [409, errorBody(409, 'conflict')], 'a shop package is not merged twice')
})
