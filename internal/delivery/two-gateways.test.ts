import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { api } from '../package/fixtures.test.js'
import { connect, isEvent, listen } from '../realtime/testing/ws-client.js'

// Two gateways on one database and broker: offers racing through both, and an
// offer made on one reaching the driver's socket on the other.

t.test('assignments across two gateways', async (t) => {
  const a = await testGateway(t, {}, { bus: true })
  const b = await testGateway(t, {}, { bus: true, shared: a })
  const admin = await a.user('admin')
  const operator = await a.user('operator')

  t.test('of 20 concurrent offers for one package exactly one wins', async (t) => {
    const { trackingNumber: tn } = await api(a).create(admin.token)
    const drivers = await Promise.all(Array.from({ length: 20 }, () => a.user('driver')))
    const responses = await Promise.all(
      drivers.map((d, i) =>
        (i % 2 ? b : a).app.inject({ method: 'POST', url: `/api/v1/packages/${tn}/assignment`, headers: { authorization: `Bearer ${i % 3 ? admin.token : operator.token}` }, payload: { driverId: d.id } }),
      ),
    )
    const codes = responses.map((r) => r.statusCode)
    t.equal(codes.filter((c) => c === 201).length, 1, 'one 201')
    const refused = responses.filter((r) => r.statusCode === 409).map((r) => r.json())
    t.equal(refused.length, 19, 'nineteen 409')
    const winner = responses.find((r) => r.statusCode === 201)!.json()
    for (const body of refused) t.match(body, { code: 'already_assigned', details: [{ value: { id: winner.id, driverId: winner.driverId } }] })
    const history = (await api(b).call('GET', `/packages/${tn}/assignments`, { token: admin.token })).json().items
    t.same(history.map((h: { id: string }) => h.id), [winner.id], 'one assignment stored')
    t.equal((await api(b).get(admin.token, tn)).driverId, winner.driverId)
  })

  t.test("the driver's user: channel hears of the offer live", async (t) => {
    const driver = await a.user('driver')
    const { trackingNumber: tn } = await api(a).create(admin.token, { recipient: { name: 'Rita Recipient', address: '9 Elm Row' } })
    const ws = await connect(t, `${await listen(t, b)}?token=${driver.token}`)
    ws.send({ op: 'subscribe', channel: `user:${driver.id}`, id: 'sub' })
    t.match(await ws.next((m) => m.id === 'sub'), { type: 'subscribed' })
    const offer = await api(a).assign(operator.token, tn, driver.id)
    const heard = await ws.next(isEvent(`user:${driver.id}`))
    t.match(heard.event, { type: 'package.assigned', trackingNumber: tn, data: { assignmentId: offer.id, driverId: driver.id, assignedBy: operator.id } }, 'in full')

    const next = await a.user('driver')
    const { version } = await api(a).get(admin.token, tn)
    const replaced = await api(a).call('POST', `/packages/${tn}/assignment`, { token: admin.token, payload: { driverId: next.id, replace: true }, headers: { 'if-match': String(version) } })
    t.equal(replaced.statusCode, 201)
    const ended = await ws.next(isEvent(`user:${driver.id}`))
    t.match(ended.event, { type: 'package.assignment_cancelled', trackingNumber: tn }, 'the replaced driver hears it ended')
    t.notMatch(JSON.stringify(ended.event), /Rita|Elm Row/, 'without the package details')
  })
})
