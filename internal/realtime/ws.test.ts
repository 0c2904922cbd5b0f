import t from 'tap'
import { bearer, testGateway } from '../app/testing/gateway.js'
import { connect, isEvent, listen, seqOf } from './testing/ws-client.js'

t.test('a subscribed client receives status updates in order', async (t) => {
  const gw = await testGateway(t, {}, { bus: true })
  const url = await listen(t, gw)
  const admin = await gw.user('admin')
  const created = await gw.app.inject({ method: 'POST', url: '/api/v1/packages', headers: bearer(admin.token), payload: { sender: { name: 'S' }, recipient: { name: 'R' } } })
  const tn = created.json().trackingNumber as string
  const ws = await connect(t, `${url}?token=${admin.token}`)
  ws.send({ op: 'subscribe', channel: `package:${tn}`, id: 'a' })
  const sub = await ws.next((m) => m.type === 'subscribed')
  t.same(sub, { type: 'subscribed', channel: `package:${tn}`, seq: 1, id: 'a' })
  const up = await gw.app.inject({ method: 'POST', url: `/api/v1/packages/${tn}/status`, headers: bearer(admin.token), payload: { status: 'in_transit' } })
  t.equal(up.statusCode, 200)
  const ev = await ws.next(isEvent(`package:${tn}`))
  t.equal(seqOf(ev), 2)
  t.equal((ev.event as { type: string }).type, 'package.status_changed')
})
