import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { api, errorBody } from '../package/fixtures.test.js'

// Offers, answers and their effect on the package, on one gateway over PostgreSQL.

t.test('assignments', async (t) => {
  const gw = await testGateway(t)
  const { call, create, get, status, events, assign } = api(gw)
  const admin = await gw.user('admin')
  const operator = await gw.user('operator')
  const dana = await gw.user('driver', 'Dana Driver')
  const eli = await gw.user('driver', 'Eli Driver')
  const customer = await gw.user('customer')
  const offer = (token: string, tn: string, payload: object, headers?: Record<string, string>) => call('POST', `/packages/${tn}/assignment`, { token, payload, headers })
  const answer = (token: string, tn: string, what: 'accept' | 'decline') => call('POST', `/packages/${tn}/assignment/${what}`, { token })

  t.test('an offer sets the driver; a second one is 409 already_assigned with the current one', async (t) => {
    const { trackingNumber: tn } = await create(admin.token)
    const res = await offer(operator.token, tn, { driverId: dana.id })
    t.equal(res.statusCode, 201)
    const a = res.json()
    t.match(a, { trackingNumber: tn, driverId: dana.id, state: 'offered', assignedBy: operator.id, assignedAt: String })
    t.equal((await get(admin.token, tn)).driverId, dana.id, 'the package names the offered driver')
    t.match((await get(dana.token, tn)).view, 'full', 'who sees it in full')
    const last = (await events(admin.token, tn)).at(-1)!
    t.same([last.type, last.data], ['package.assigned', { assignmentId: a.id, driverId: dana.id, assignedBy: operator.id }])

    const again = await offer(admin.token, tn, { driverId: eli.id })
    t.equal(again.statusCode, 409)
    t.match(again.json(), { ...errorBody(409, 'already_assigned'), details: [{ path: '/assignment', value: { id: a.id, driverId: dana.id, state: 'offered' } }] })
  })

  t.test('replace needs a matching If-Match', async (t) => {
    const { trackingNumber: tn } = await create(admin.token)
    const first = await assign(admin.token, tn, dana.id)
    const { version } = await get(admin.token, tn)
    t.match((await offer(admin.token, tn, { driverId: eli.id, replace: true })).json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/headers/if-match' }] }, 'without If-Match')
    t.match((await offer(admin.token, tn, { driverId: eli.id, replace: true }, { 'if-match': `"${version - 1}"` })).json(), errorBody(412, 'version_mismatch'), 'stale If-Match')
    const res = await offer(admin.token, tn, { driverId: eli.id, replace: true }, { 'if-match': `"${version}"` })
    t.equal(res.statusCode, 201)
    const history = (await call('GET', `/packages/${tn}/assignments`, { token: operator.token })).json().items
    t.match(history, [{ id: first.id, state: 'cancelled', cancelledAt: String }, { id: res.json().id, driverId: eli.id, state: 'offered' }], 'oldest first')
    t.equal((await get(admin.token, tn)).driverId, eli.id)
    t.same((await events(admin.token, tn)).slice(-2).map((e) => e.type), ['package.assignment_cancelled', 'package.assigned'])
    t.equal((await call('GET', `/packages/${tn}`, { token: dana.token })).statusCode, 404, 'the replaced driver no longer sees it')
  })

  t.test('refusals: not a driver, a deleted driver, a final package, a customer asking', async (t) => {
    const { trackingNumber: tn } = await create(admin.token)
    const gone = await gw.user('driver')
    t.equal((await call('DELETE', `/users/${gone.id}`, { token: admin.token })).statusCode, 204)
    for (const driverId of [customer.id, gone.id, 'nope']) {
      t.match((await offer(admin.token, tn, { driverId })).json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/driverId' }] }, driverId)
    }
    t.equal((await offer(customer.token, tn, { driverId: dana.id })).statusCode, 403)
    await status(admin.token, tn, 'cancelled')
    t.match((await offer(admin.token, tn, { driverId: dana.id })).json(), errorBody(409, 'invalid_transition'))
  })

  t.test('only the offered driver accepts or declines; others get 404', async (t) => {
    const { trackingNumber: tn } = await create(admin.token)
    await assign(admin.token, tn, dana.id)
    t.equal((await answer(eli.token, tn, 'accept')).statusCode, 404)
    t.equal((await answer(eli.token, tn, 'decline')).statusCode, 404)
    const accepted = await answer(dana.token, tn, 'accept')
    t.match(accepted.json(), { state: 'accepted', acceptedAt: String })
    t.equal((await events(admin.token, tn)).at(-1)!.type, 'package.assignment_accepted')
    t.match((await answer(dana.token, tn, 'decline')).json(), { state: 'declined', declinedAt: String }, 'work accepted may be handed back')
    t.notOk('driverId' in (await get(admin.token, tn)), 'the package has no driver')
    t.equal((await answer(dana.token, tn, 'accept')).statusCode, 404, 'nothing left to answer')
    t.equal((await offer(admin.token, tn, { driverId: eli.id })).statusCode, 201, 'free to offer again')
  })

  t.test('a final status completes or cancels the active assignment', async (t) => {
    const delivered = (await create(admin.token)).trackingNumber
    await assign(admin.token, delivered, dana.id)
    await answer(dana.token, delivered, 'accept')
    for (const s of ['in_transit', 'out_for_delivery', 'delivered']) await status(dana.token, delivered, s)
    t.match((await call('GET', `/packages/${delivered}/assignments`, { token: admin.token })).json().items, [{ state: 'completed', completedAt: String }])
    t.equal((await get(dana.token, delivered)).status, 'delivered', 'the driver still reads what they delivered')

    const cancelled = (await create(admin.token)).trackingNumber
    await assign(admin.token, cancelled, eli.id)
    await status(admin.token, cancelled, 'cancelled')
    t.match((await call('GET', `/packages/${cancelled}/assignments`, { token: admin.token })).json().items, [{ state: 'cancelled', cancelledAt: String }])
  })

  t.test('PATCH driverId is refused, naming the field', async (t) => {
    const { trackingNumber: tn } = await create(admin.token)
    const res = await call('PATCH', `/packages/${tn}`, { token: admin.token, payload: { driverId: dana.id } })
    t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/driverId' }] })
  })

  t.test('drivers, my assignments and my positions', async (t) => {
    const fay = await gw.user('driver', 'Fay Driver')
    const one = (await create(admin.token)).trackingNumber
    const two = (await create(admin.token)).trackingNumber
    await assign(admin.token, one, fay.id)
    await assign(admin.token, two, fay.id)
    const at = new Date(Date.now() - 1000).toISOString()
    const points = { points: [{ lat: 52.52, lng: 13.405, recordedAt: at }] }
    t.match((await call('POST', '/me/locations', { token: fay.token, payload: points })).json(), { ...errorBody(409, 'conflict'), message: /accept/ }, 'nothing accepted yet')

    await answer(fay.token, one, 'accept')
    t.match((await call('GET', '/me/assignments?state=accepted', { token: fay.token })).json().items, [{ trackingNumber: one, state: 'accepted' }])
    t.equal((await call('GET', '/me/assignments', { token: fay.token })).json().items.length, 2)
    t.equal((await call('GET', '/me/assignments', { token: admin.token })).statusCode, 403)

    const posted = await call('POST', '/me/locations', { token: fay.token, payload: points })
    t.equal(posted.statusCode, 202)
    t.same(posted.json(), { accepted: 1, duplicates: 0 })
    t.same((await call('POST', '/me/locations', { token: fay.token, payload: points })).json(), { accepted: 0, duplicates: 1 }, 'a resend is a duplicate')
    t.match((await get(admin.token, one)).lastLocation, { lat: 52.52, lng: 13.405, recordedAt: at }, 'the accepted package moved')
    t.notOk((await get(admin.token, two)).lastLocation, 'the offered one did not')

    const drivers = (await call('GET', '/drivers', { token: operator.token })).json().items as Array<{ id: string }>
    t.match(drivers.find((d) => d.id === fay.id), { name: 'Fay Driver', email: fay.email, activeAssignments: 2, lastLocation: { lat: 52.52, lng: 13.405, recordedAt: at }, lastSeenAt: String })
    t.notOk(drivers.some((d) => d.id === customer.id), 'drivers only')
    t.equal((await call('GET', '/drivers', { token: dana.token })).statusCode, 403)
  })
})
