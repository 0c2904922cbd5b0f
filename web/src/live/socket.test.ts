import t from 'tap'
import type { PackageEvent } from '../api/types.js'
import { reconnectDelay } from './backoff.js'
import { FakeTimers, socketFactory } from './fake-socket.js'
import { LiveSocket, type LinkStatus } from './socket.js'

const ev = (tn: string, seq: number | undefined, type: PackageEvent['type'] = 'package.status_changed'): PackageEvent => ({
  id: `${tn}-${seq ?? 'live'}`,
  type,
  trackingNumber: tn,
  ...(seq === undefined ? {} : { seq }),
  occurredAt: '2025-01-01T00:00:00.000Z',
  recordedAt: '2025-01-01T00:00:00.000Z',
  data: { status: 'in_transit' },
})

function setup() {
  const factory = socketFactory()
  const timers = new FakeTimers()
  const statuses: LinkStatus[] = []
  let authFailures = 0
  const live = new LiveSocket({
    url: () => 'ws://console.test/api/v1/ws',
    connect: factory.connect,
    timers: timers.api,
    random: () => 1,
    backoff: { baseMs: 100, maxMs: 1000 },
    pingIntervalMs: 1000,
    onStatus: (s) => statuses.push(s),
    onAuthFailed: () => authFailures++,
  })
  return { live, factory, timers, statuses, authFailures: () => authFailures }
}

t.test('backoff grows exponentially to its ceiling, with jitter between half and all of it', async (t) => {
  const b = { baseMs: 100, maxMs: 1000 }
  t.same([0, 1, 2, 3, 4, 10].map((a) => reconnectDelay(a, b, () => 1)), [100, 200, 400, 800, 1000, 1000])
  t.same([0, 3].map((a) => reconnectDelay(a, b, () => 0)), [50, 400])
})

t.test('signs in first, then subscribes; listeners of one channel share one subscription', async (t) => {
  const { live, factory } = setup()
  live.setToken('tok-1')
  const seen: string[] = []
  const offA = live.subscribe('user:u1', { onEvent: (e) => seen.push(`a${e.seq}`) })
  live.start()
  const s = factory.last()
  t.same(s.sent, [], 'nothing is sent before the socket opens')
  s.open()
  t.same(s.sent.map((m) => m.op), ['auth', 'subscribe'], 'auth heads every subscription')
  t.equal(s.sent[0]!.token, 'tok-1')
  s.confirmAll()
  const offB = live.subscribe('user:u1', { onEvent: (e) => seen.push(`b${e.seq}`) })
  t.equal(s.ops('subscribe').length, 1, 'a second listener does not subscribe again')
  s.receive({ type: 'event', channel: 'user:u1', event: ev('AAA11111', 1) })
  t.same(seen, ['a1', 'b1'])
  offA()
  t.equal(s.ops('unsubscribe').length, 0, 'still one listener left')
  offB()
  t.same(s.ops('unsubscribe'), [{ op: 'unsubscribe', channel: 'user:u1' }], 'the last listener unsubscribes')
})

t.test('durable events are delivered once per seq; live-only ones always', async (t) => {
  const { live, factory } = setup()
  const seen: Array<number | undefined> = []
  live.subscribe('all', { onEvent: (e) => seen.push(e.seq) })
  live.start()
  const s = factory.last()
  s.open()
  s.confirmAll()
  for (const e of [ev('AAA11111', 1), ev('AAA11111', 2), ev('AAA11111', 2), ev('BBB22222', 1), ev('AAA11111', 1), ev('AAA11111', undefined, 'package.location'), ev('AAA11111', undefined, 'package.location')]) {
    s.receive({ type: 'event', channel: 'all', event: e })
  }
  t.same(seen, [1, 2, 1, undefined, undefined])
})

t.test('after a drop it reconnects with backoff and resumes package channels with since', async (t) => {
  const { live, factory, timers, statuses } = setup()
  const resumed: boolean[] = []
  live.subscribe('package:AAA11111', { onEvent: () => undefined, onSubscribed: (i) => resumed.push(i.resumed) }, { since: 3 })
  live.subscribe('user:u1', { onEvent: () => undefined, onSubscribed: (i) => resumed.push(i.resumed) })
  live.start()
  let s = factory.last()
  s.open()
  t.same(s.ops('subscribe').map((m) => m.since), [3, undefined], 'the package channel starts from the given seq')
  s.confirmAll({ 'package:AAA11111': 5 })
  s.receive({ type: 'event', channel: 'package:AAA11111', event: ev('AAA11111', 4) })
  s.receive({ type: 'event', channel: 'package:AAA11111', event: ev('AAA11111', 5) })

  s.drop()
  t.equal(statuses.at(-1)?.state, 'reconnecting')
  t.equal(statuses.at(-1)?.retryInMs, 100)
  t.same(timers.fire().filter((ms) => ms === 100), [100], 'waits out the first backoff step')
  s = factory.last()
  t.equal(factory.sockets.length, 2)
  s.drop()
  t.equal(statuses.at(-1)?.retryInMs, 200, 'the next wait is longer')
  timers.fire()
  s = factory.last()
  s.open()
  t.same(s.ops('subscribe').map((m) => [m.channel, m.since]), [['package:AAA11111', 5], ['user:u1', undefined]], 'resumes after the last seq seen')
  s.confirmAll({ 'package:AAA11111': 7 })
  t.same(resumed, [false, false, true, true], 'listeners learn that the link was resumed')
  s.receive({ type: 'event', channel: 'package:AAA11111', event: ev('AAA11111', 6) })
  t.equal(statuses.at(-1)?.attempt, 0, 'a message proves the link: the backoff starts over')
})

t.test('a silent link is replaced; a refused token asks for a refresh; sign-out reconnects as a guest', async (t) => {
  const { live, factory, timers, authFailures } = setup()
  live.setToken('tok-1')
  live.start()
  let s = factory.last()
  s.open()
  timers.fire() // first ping
  t.equal(s.ops('ping').length, 1)
  timers.fire() // no pong since: dead link
  t.equal(s.closed?.code, 4000)
  timers.fire() // reconnect
  s = factory.last()
  t.equal(factory.sockets.length, 2)
  s.open()
  s.receive({ type: 'error', code: 'unauthorized', message: 'token expired', id: s.ops('auth')[0]!.id })
  t.equal(authFailures(), 1, 'an auth error asks the app for a fresh token')
  live.setToken('tok-2')
  t.equal(s.ops('auth').at(-1)?.token, 'tok-2', 'a fresh token is sent on the open link')
  live.setToken(null)
  t.equal(factory.sockets.length, 3, 'signing out reconnects so the server forgets the user')
  live.stop()
  t.equal(live.status.state, 'stopped')
})

t.test('a subscription error reaches the listeners', async (t) => {
  const { live, factory } = setup()
  const errors: string[] = []
  live.subscribe('package:ZZZ99999', { onEvent: () => undefined, onError: (e) => errors.push(e.code) })
  live.start()
  const s = factory.last()
  s.open()
  s.receive({ type: 'error', code: 'not_found', message: 'package not found', id: s.ops('subscribe')[0]!.id })
  t.same(errors, ['not_found'])
})

t.test('closed with 4401 (token expired): refreshes, then reconnects with the fresh token and resumes with since', async (t) => {
  const { live, factory, timers, authFailures } = setup()
  live.setToken('tok-1')
  live.subscribe('package:AAA11111', { onEvent: () => undefined })
  live.start()
  let s = factory.last()
  s.open()
  s.confirmAll({ 'package:AAA11111': 2 })
  s.receive({ type: 'event', channel: 'package:AAA11111', event: ev('AAA11111', 3) })
  s.drop(4401, 'token expired')
  t.equal(authFailures(), 1, 'the app is asked for a fresh token')
  t.equal(factory.sockets.length, 1, 'no reconnect with the expired token meanwhile')
  live.setToken('tok-2')
  t.equal(factory.sockets.length, 2, 'the fresh token reconnects at once')
  s = factory.last()
  s.open()
  t.same(s.sent.map((m) => m.op), ['auth', 'subscribe'])
  t.equal(s.ops('auth')[0]!.token, 'tok-2')
  t.equal(s.ops('subscribe')[0]!.since, 3, 'resumes after the last seq seen')
  timers.fire()
  t.equal(factory.sockets.length, 2, 'the backoff timer set at the close no longer reconnects')
})

t.test('a subscription the server withdraws reaches the listeners once and is not resumed', async (t) => {
  const { live, factory, timers } = setup()
  const revoked: string[] = []
  live.subscribe('package:DTREVOKED0001', { onEvent: () => undefined, onRevoked: (e) => revoked.push(e.code) })
  live.subscribe('track:DTREVOKED0001', { onEvent: () => undefined })
  live.start()
  const s = factory.last()
  s.open()
  s.receive({ type: 'subscribed', channel: 'package:DTREVOKED0001', seq: 3, id: s.ops('subscribe')[0]!.id })
  s.receive({ type: 'unsubscribed', channel: 'package:DTREVOKED0001', code: 'not_found', message: 'package not found' })
  s.receive({ type: 'unsubscribed', channel: 'package:DTREVOKED0001', code: 'not_found', message: 'package not found' })
  t.same(revoked, ['not_found'], 'told once')
  s.drop(1006, 'gone')
  timers.fire()
  const next = factory.last()
  t.not(next, s, 'reconnected')
  next.open()
  t.same(next.ops('subscribe').map((m) => m.channel), ['track:DTREVOKED0001'], 'the withdrawn channel is not subscribed again after a reconnect')
})
