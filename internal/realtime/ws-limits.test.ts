import t from 'tap'
import WebSocket from 'ws'
import { testGateway } from '../app/testing/gateway.js'
import { ManualClock } from './testing/manual-clock.js'
import { connect, createPackage, isType, listen, waitFor } from './testing/ws-client.js'

// Abuse limits of GET /api/v1/ws (F8, F11), with small limits: a client that sends
// too fast, or more than the server has answered, is closed with 1008; an address
// has a cap on open sockets; track: subscriptions spend the /track budget.

t.test('a client past its message rate is closed with 1008', async (t) => {
  const clock = new ManualClock()
  const gw = await testGateway(t, { WS_MESSAGE_BURST: '5', WS_MESSAGES_PER_S: '2' }, { wsClock: clock })
  const url = await listen(t, gw)
  const ws = await connect(t, url)
  for (let i = 0; i < 5; i++) ws.send({ op: 'ping', id: i })
  await ws.collect(5, isType('pong'))
  clock.advance(1000)
  ws.send({ op: 'ping', id: 'refilled-1' })
  ws.send({ op: 'ping', id: 'refilled-2' })
  await ws.collect(7, isType('pong'))
  t.pass('the bucket refills at the sustained rate')
  ws.send({ op: 'ping', id: 'one-too-many' })
  const closed = await ws.closed
  t.equal(closed.code, 1008)
  t.match(closed.reason, /message rate limit exceeded/)
  t.equal(ws.messages.filter(isType('pong')).length, 7, 'the message over the limit got no answer')
  t.equal(gw.wsCounters.closedForRate, 1)
})

t.test('a client that sends faster than it is answered is closed with 1008; the queue stays bounded', async (t) => {
  const gw = await testGateway(t, { WS_MAX_QUEUED_MESSAGES: '10', WS_MESSAGE_BURST: '100000' })
  const url = await listen(t, gw)
  const admin = await gw.user('admin')
  const tn = await createPackage(gw, admin.token)
  // The probe's reproducer: a guest writing subscribes as fast as the socket takes them.
  const guest = await connect(t, url)
  const flood = JSON.stringify({ op: 'subscribe', channel: `track:${tn}` })
  for (let i = 0; i < 2000 && guest.socket.readyState === WebSocket.OPEN; i++) guest.socket.send(flood)
  const closed = await guest.closed
  t.equal(closed.code, 1008)
  t.match(closed.reason, /too many messages waiting/)
  t.ok(gw.wsCounters.peakQueued <= 10, `at most 10 messages waited (${gw.wsCounters.peakQueued})`)
  t.ok(guest.messages.filter(isType('subscribed')).length <= 10, 'no more answers than the queue held')
  t.equal(gw.wsCounters.closedForQueue, 1)
  await waitFor(() => gw.realtime.stats().connections === 0, 'the connection to be gone')

  const polite = await connect(t, url)
  for (let i = 0; i < 10; i++) polite.send({ op: 'subscribe', channel: `track:${tn}`, id: i })
  await polite.collect(10, isType('subscribed'))
  t.pass('a client that stays within the queue is served')
})

t.test('WS_MAX_CONNECTIONS_PER_IP: one more socket is refused with 429 before the upgrade', async (t) => {
  const gw = await testGateway(t, { WS_MAX_CONNECTIONS_PER_IP: '3' })
  const url = await listen(t, gw)
  const open = [await connect(t, url), await connect(t, url), await connect(t, url)]
  const refused = await new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.on('open', () => reject(new Error('the fourth socket was accepted')))
    ws.on('error', () => undefined)
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as Record<string, unknown> }))
    })
  })
  t.equal(refused.status, 429)
  t.match(refused.body, { statusCode: 429, code: 'rate_limited', message: /at most 3 WebSocket connections per client address/ })
  t.equal(gw.wsCounters.refusedPerIp, 1)
  open[0]!.close()
  await waitFor(() => gw.realtime.stats().connections === 2, 'the closed socket to be released')
  const again = await connect(t, url)
  again.send({ op: 'ping', id: 'p' })
  await again.next(isType('pong'))
  t.pass('a closed socket frees its place')
})

t.test('track: subscriptions and GET /track share one budget per address', async (t) => {
  const gw = await testGateway(t, { RATE_LIMIT_TRACK_MAX: '3' })
  const url = await listen(t, gw)
  const admin = await gw.user('admin')
  const [a, b, c] = [await createPackage(gw, admin.token), await createPackage(gw, admin.token), await createPackage(gw, admin.token)]
  const track = (tn: string) => gw.app.inject({ method: 'GET', url: `/api/v1/track/${tn}`, remoteAddress: '127.0.0.1' })
  const guest = await connect(t, url)
  guest.send({ op: 'subscribe', channel: `track:${a}`, id: 1 })
  t.match(await guest.next((m) => m.id === 1), { type: 'subscribed' })
  t.equal((await track(b)).statusCode, 200)
  guest.send({ op: 'subscribe', channel: `track:${b}`, id: 2 })
  t.match(await guest.next((m) => m.id === 2), { type: 'subscribed' })
  guest.send({ op: 'subscribe', channel: `track:${c}`, id: 3 })
  t.match(await guest.next((m) => m.id === 3), { type: 'error', code: 'rate_limited', id: 3, message: /track/ })
  guest.send({ op: 'ping', id: 'still-open' })
  await guest.next(isType('pong'))
  t.pass('the connection stays open')
  const rest = await track(c)
  t.equal(rest.statusCode, 429, 'REST /track sees the budget used up')
  t.equal(rest.json().code, 'rate_limited')
  guest.send({ op: 'subscribe', channel: `track:${a}`, id: 4 })
  t.match(await guest.next((m) => m.id === 4), { type: 'subscribed' }, 'a channel already subscribed costs nothing')
  const other = await gw.app.inject({ method: 'GET', url: `/api/v1/track/${c}`, remoteAddress: '10.0.0.9' })
  t.equal(other.statusCode, 200, 'another address has its own budget')
})
