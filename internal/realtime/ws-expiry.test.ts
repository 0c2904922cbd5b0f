import t, { type Test } from 'tap'
import { createSigner } from 'fast-jwt'
import { testGateway } from '../app/testing/gateway.js'
import { ManualClock } from './testing/manual-clock.js'
import { connect, createPackage, isEvent, isType, listen, postStatus, seqOf } from './testing/ws-client.js'
import { tokenExpiry } from './token-expiry.js'

// A socket authenticated with a token stops receiving when the token expires (F4):
// it is closed with 4401 "token expired" at that moment, and a fresh token sent with
// {op: "auth"} before then keeps it open until the new expiry.

// Each case has a gateway of its own: its clock only moves forward.
async function setup(t: Test) {
  const clock = new ManualClock()
  const gw = await testGateway(t, {}, { wsClock: clock })
  const url = await listen(t, gw)
  const admin = await gw.user('admin')
  const tn = await createPackage(gw, admin.token)
  return { clock, gw, url, admin, tn, expiresAt: tokenExpiry(admin.token)!, channel: `package:${tn}` }
}

t.test('token expiry on WebSocket connections', async (t) => {
  t.test('closed with 4401 at exp, and nothing is delivered after', async (t) => {
    const { clock, gw, url, admin, tn, expiresAt, channel } = await setup(t)
    const ws = await connect(t, `${url}?token=${admin.token}`)
    ws.send({ op: 'subscribe', channel, id: 's' })
    await ws.next((m) => m.id === 's')
    clock.set(expiresAt - 1)
    await postStatus(gw, admin.token, tn, { status: 'info_received' })
    const seen = seqOf(await ws.next(isEvent(channel)))
    clock.set(expiresAt)
    const closed = await ws.closed
    t.same(closed, { code: 4401, reason: 'token expired' })
    t.equal(gw.wsCounters.expired, 1)
    const before = ws.messages.length
    // The socket is gone server-side too: a later event reaches no one on it.
    await postStatus(gw, admin.token, tn, { status: 'in_transit' })
    const other = await connect(t, url)
    other.send({ op: 'subscribe', channel: `track:${tn}`, since: seen, id: 'x' })
    await other.next(isEvent(`track:${tn}`))
    t.equal(ws.messages.length, before, 'no message after the close')
    t.same(ws.messages.filter(isEvent(channel)).map(seqOf), [seen], 'only the event before exp')
  })

  t.test('a fresh token sent with op auth extends the connection', async (t) => {
    const { clock, gw, url, admin, expiresAt } = await setup(t)
    const later = createSigner({ key: gw.config.JWT_SECRET!, algorithm: 'HS256', iss: 'delivertrack', expiresIn: 7_200_000 })({ sub: admin.id, role: 'admin', kind: 'user' })
    const laterExp = tokenExpiry(later)!
    t.ok(laterExp > expiresAt)
    const ws = await connect(t, `${url}?token=${admin.token}`)
    ws.send({ op: 'auth', token: later, id: 'a' })
    t.match(await ws.next((m) => m.id === 'a'), { type: 'authenticated', role: 'admin' })
    clock.set(laterExp - 1)
    ws.send({ op: 'ping', id: 'alive' })
    await ws.next(isType('pong'))
    t.pass('still open past the first token\'s expiry')
    clock.set(laterExp)
    t.same(await ws.closed, { code: 4401, reason: 'token expired' })
  })
})
