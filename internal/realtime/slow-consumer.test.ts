import type { Socket } from 'node:net'
import t from 'tap'
import { bearer, testGateway } from '../app/testing/gateway.js'
import { connect, createPackage, durableSeqs, isEvent, isType, listen, range, waitFor } from './testing/ws-client.js'

// A client that stops reading is closed with 1013 once its unsent buffer passes
// WS_MAX_BUFFERED_BYTES; everyone else keeps getting every event, and the closed
// client can resume with since.

t.test('a client that stops reading is closed with 1013; others keep receiving', async (t) => {
  const gw = await testGateway(t, { WS_MAX_BUFFERED_BYTES: '2048' })
  const url = await listen(t, gw)
  const admin = await gw.user('admin')
  const tns = await Promise.all(range(1, 12).map(() => createPackage(gw, admin.token)))

  const normal = await connect(t, `${url}?token=${admin.token}`)
  normal.send({ op: 'subscribe', channel: 'all' })
  await normal.next(isType('subscribed'))
  // On the admin's own list too, so each event reaches the slow client on three channels.
  for (const tn of tns) await gw.app.inject({ method: 'POST', url: '/api/v1/me/trackings', headers: bearer(admin.token), payload: { trackingNumber: tn } })
  const slow = await connect(t, `${url}?token=${admin.token}`)
  for (const channel of ['all', `user:${admin.id}`, ...tns.map((tn) => `package:${tn}`)]) slow.send({ op: 'subscribe', channel })
  await slow.collect(tns.length + 2, isType('subscribed'))
  const server = [...gw.realtime.connections]
  t.equal(server.length, 2)
  // The slow client stops reading its socket: the kernel buffers fill, then the server's.
  ;(slow.socket as unknown as { _socket: Socket })._socket.pause()

  // Large events (each ~4.5 KB on the wire) until the server gives up on the slow client.
  const party = (i: number, c: string) => ({ name: `${i} `.padEnd(200, c), address: `${i} `.padEnd(500, c), email: `${c.repeat(40)}${i}@example.com`, phone: `+${i}`.padEnd(40, '0') })
  const big = (i: number) => ({
    description: `${i} `.padEnd(1000, 'd'),
    carrier: `${i} `.padEnd(100, 'c'),
    sender: party(i, 's'),
    recipient: party(i, 'r'),
    origin: { lat: 1, lng: 2, address: `${i} `.padEnd(500, 'o') },
    destination: { lat: 3, lng: 4, address: `${i} `.padEnd(500, 'x') },
  })
  const round = async (i: number) => {
    const codes = await Promise.all(tns.map((tn) => gw.app.inject({ method: 'PATCH', url: `/api/v1/packages/${tn}`, headers: bearer(admin.token), payload: big(i) })))
    if (codes.some((r) => r.statusCode !== 200)) throw new Error(`PATCH failed: ${codes.map((r) => r.statusCode).join(',')}`)
  }
  let rounds = 0
  while (!server.some((c) => c.closed)) {
    if (rounds >= 1500) throw new Error('the slow client was never closed')
    await round(++rounds)
  }
  t.equal(server.filter((c) => c.closed).length, 1, 'only the slow connection was closed')
  // A few more rounds after the slow client was dropped.
  for (let i = 0; i < 3; i++) await round(++rounds)
  t.comment(`slow client closed after ${rounds - 3} rounds of ${tns.length} events`)

  ;(slow.socket as unknown as { _socket: Socket })._socket.resume()
  const closed = await slow.closed
  t.equal(closed.code, 1013, 'closed with 1013 (try again later)')
  t.match(closed.reason, /since/)

  await normal.collect(rounds * tns.length, isEvent('all'))
  for (const tn of tns) t.same(durableSeqs(normal, 'all', tn), range(2, rounds + 1), `the normal client got every event of ${tn}`)
  normal.send({ op: 'ping', id: 'alive' })
  t.same(await normal.next(isType('pong')), { type: 'pong', id: 'alive' })

  // What the slow client did get is gap-free, so it can resume from its last seq.
  const tn = tns[0]!
  const got = durableSeqs(slow, `package:${tn}`)
  t.same(got, range(2, 1 + got.length), 'what arrived before the close has no gap')
  const last = got.at(-1) ?? 1
  const again = await connect(t, `${url}?token=${admin.token}`)
  again.send({ op: 'subscribe', channel: `package:${tn}`, since: last })
  t.equal((await again.next(isType('subscribed'))).seq, rounds + 1)
  await again.collect(rounds + 1 - last, isEvent(`package:${tn}`))
  t.same(durableSeqs(again, `package:${tn}`), range(last + 1, rounds + 1), 'resuming with since fills in the rest')
  await waitFor(() => gw.realtime.connections.size === 2, 'the closed connection to be released')
})
