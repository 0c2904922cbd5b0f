import t from 'tap'
import { bearer, testGateway } from '../platform/testing/harness.js'

t.test('create and read a package', async (t) => {
  const gw = await testGateway(t)
  const admin = await gw.user('admin')
  const res = await gw.app.inject({ method: 'POST', url: '/api/v1/packages', headers: bearer(admin.token), payload: { sender: { name: 'Shop' }, recipient: { name: 'Ann' } } })
  t.equal(res.statusCode, 201, res.body)
  const pkg = res.json()
  t.equal(pkg.status, 'pending')
  t.equal(pkg.version, 1)
  const get = await gw.app.inject({ method: 'GET', url: `/api/v1/packages/${pkg.trackingNumber.toLowerCase()}`, headers: bearer(admin.token) })
  t.equal(get.statusCode, 200)
  t.equal(get.json().id, pkg.id)
})
