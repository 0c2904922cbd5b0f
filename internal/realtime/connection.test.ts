import t from 'tap'
import { Connection, type ChannelMessage, type EventLog, type Outlet } from './connection.js'
import type { EventEnvelope } from '../events/envelope.js'
import { eventJson, serializerFor } from './router.js'

// Unit tests of the per-connection ordering rules with a recording outlet and an
// in-memory event log (no database involved).

const TN = 'DT0000000001'
const OTHER = 'DT0000000002'

function envelope(trackingNumber: string, seq: number): EventEnvelope {
  return {
    id: `${trackingNumber}-${seq}`,
    type: 'package.status_changed',
    trackingNumber,
    seq,
    occurredAt: '2024-01-01T00:00:00.000Z',
    recordedAt: '2024-01-01T00:00:00.000Z',
    data: { status: 'in_transit' },
  }
}

class FakeOutlet implements Outlet {
  frames: string[] = []
  bufferedAmount = 0
  closedWith: { code: number; reason: string } | undefined
  send(data: string): void {
    this.frames.push(data)
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason }
  }
  /** seq (or 'live') of every event frame, per channel. */
  seqs(channel: string): Array<number | string> {
    return this.frames
      .map((f) => JSON.parse(f) as { type: string; channel: string; event: EventEnvelope })
      .filter((m) => m.type === 'event' && m.channel === channel)
      .map((m) => (m.event.seq === undefined ? 'live' : `${m.event.trackingNumber === TN ? '' : m.event.trackingNumber + '#'}${m.event.seq}`))
      .map((s) => (typeof s === 'string' && /^\d+$/.test(s) ? Number(s) : s))
  }
}

/** An event log whose reads can be held back, to interleave live deliveries with a fill. */
class MemoryLog implements EventLog {
  readonly events = new Map<string, EventEnvelope[]>()
  reads = 0
  private gate: Promise<void> | undefined
  private open: (() => void) | undefined
  failNext = false

  append(tn: string, upTo: number): void {
    const list = this.events.get(tn) ?? []
    for (let s = list.length + 1; s <= upTo; s++) list.push(envelope(tn, s))
    this.events.set(tn, list)
  }
  hold(): void {
    this.gate = new Promise((r) => (this.open = r))
  }
  release(): void {
    this.open?.()
    this.gate = undefined
  }
  async since(tn: string, afterSeq: number): Promise<EventEnvelope[]> {
    this.reads++
    if (this.gate) await this.gate
    if (this.failNext) {
      this.failNext = false
      throw new Error('database unavailable')
    }
    return (this.events.get(tn) ?? []).filter((e) => e.seq! > afterSeq)
  }
}

const message = (channel: string, tn: string, seq: number | undefined): ChannelMessage => {
  const env = envelope(tn, seq ?? 0)
  if (seq === undefined) {
    delete env.seq
    env.type = 'package.location'
  }
  return { trackingNumber: tn, seq, json: eventJson(channel, env) }
}

function setup(opts: { maxBufferedBytes?: number; maxPending?: number } = {}) {
  const outlet = new FakeOutlet()
  const log = new MemoryLog()
  const errors: unknown[] = []
  const conn = new Connection({ id: 1, outlet, log, maxBufferedBytes: opts.maxBufferedBytes ?? 1 << 20, maxPending: opts.maxPending, logger: { warn: (o) => errors.push((o as { err: unknown }).err) } })
  return { outlet, log, conn, errors }
}

const settle = () => new Promise((r) => setImmediate(r))

t.test('live events after the current seq are sent once, in order; old and repeated ones are dropped', async (t) => {
  const { outlet, conn } = setup()
  const ch = `package:${TN}`
  conn.open(ch, serializerFor(ch))
  await conn.resume(ch, TN, 3, undefined)
  for (const seq of [2, 3, 4, 4, 5, 3, 6]) conn.deliver(ch, message(ch, TN, seq))
  t.same(outlet.seqs(ch), [4, 5, 6])
  t.equal(conn.sent, 3)
})

t.test('resume with since sends the missed history first, then what arrived meanwhile, without doubles', async (t) => {
  const { outlet, log, conn } = setup()
  const ch = `package:${TN}`
  log.append(TN, 5)
  log.hold()
  conn.open(ch, serializerFor(ch))
  const resumed = conn.resume(ch, TN, 5, 2)
  // Events committed while the history is being read: one already in the history, one newer.
  log.append(TN, 6)
  conn.deliver(ch, message(ch, TN, 5))
  conn.deliver(ch, message(ch, TN, 6))
  t.same(outlet.seqs(ch), [], 'nothing is sent before the history')
  log.release()
  await resumed
  t.same(outlet.seqs(ch), [3, 4, 5, 6])
  conn.deliver(ch, message(ch, TN, 7))
  t.same(outlet.seqs(ch), [3, 4, 5, 6, 7])
})

t.test('since at or beyond the current seq sends no history', async (t) => {
  const { outlet, log, conn } = setup()
  const ch = `package:${TN}`
  log.append(TN, 4)
  conn.open(ch, serializerFor(ch))
  await conn.resume(ch, TN, 4, 9)
  t.equal(log.reads, 0)
  conn.deliver(ch, message(ch, TN, 5))
  t.same(outlet.seqs(ch), [5], 'a client claiming a future seq restarts at the current one')
})

t.test('a jump ahead is filled from the event log before the live event', async (t) => {
  const { outlet, log, conn } = setup()
  const ch = `package:${TN}`
  conn.open(ch, serializerFor(ch))
  await conn.resume(ch, TN, 3, undefined)
  log.append(TN, 7)
  log.hold()
  conn.deliver(ch, message(ch, TN, 6))
  conn.deliver(ch, message(ch, TN, 7))
  conn.deliver(ch, message(ch, TN, 4))
  t.same(outlet.seqs(ch), [], 'held back while the gap is read')
  log.release()
  await settle()
  await settle()
  t.same(outlet.seqs(ch), [4, 5, 6, 7])
  conn.deliver(ch, message(ch, TN, 5))
  conn.deliver(ch, message(ch, TN, 8))
  t.same(outlet.seqs(ch), [4, 5, 6, 7, 8])
})

t.test('live-only events (no seq) pass straight through; multi-package channels keep a cursor per package', async (t) => {
  const { outlet, conn } = setup()
  conn.open('all', serializerFor('all'))
  await conn.resume('all', undefined, undefined, undefined)
  conn.deliver('all', message('all', TN, 10))
  conn.deliver('all', message('all', OTHER, 3))
  conn.deliver('all', message('all', TN, undefined))
  conn.deliver('all', message('all', OTHER, 4))
  conn.deliver('all', message('all', TN, 10))
  conn.deliver('all', message('all', OTHER, 3))
  conn.deliver('all', message('all', TN, 11))
  t.same(outlet.seqs('all'), [10, `${OTHER}#3`, 'live', `${OTHER}#4`, 11])
})

t.test('a closed channel receives nothing; other channels are unaffected', async (t) => {
  const { outlet, conn } = setup()
  const a = `package:${TN}`
  const b = `track:${TN}`
  conn.open(a, serializerFor(a))
  conn.open(b, serializerFor(b))
  await conn.resume(a, TN, 1, undefined)
  await conn.resume(b, TN, 1, undefined)
  conn.close(a)
  t.notOk(conn.has(a))
  conn.deliver(a, message(a, TN, 2))
  conn.deliver(b, message(b, TN, 2))
  t.same(outlet.seqs(a), [])
  t.same(outlet.seqs(b), [2])
  t.same(conn.channelNames, [b])
})

t.test('history on a track: channel is redacted like live events', async (t) => {
  const { outlet, log, conn } = setup()
  const ch = `track:${TN}`
  log.append(TN, 2)
  log.events.get(TN)![1]!.data = { status: 'in_transit', previousStatus: 'pending', location: { lat: 52.52, lng: 13.4, city: 'Berlin' } }
  conn.open(ch, serializerFor(ch))
  await conn.resume(ch, TN, 2, 0)
  t.same(outlet.seqs(ch), [1, 2])
  const last = JSON.parse(outlet.frames.at(-1)!) as { event: EventEnvelope }
  t.same(last.event.data, { status: 'in_transit', previousStatus: 'pending', city: 'Berlin' })
})

t.test('a socket whose unsent buffer passes the bound is closed with 1013 and sent nothing more', async (t) => {
  const { outlet, conn } = setup({ maxBufferedBytes: 100 })
  const ch = `package:${TN}`
  conn.open(ch, serializerFor(ch))
  await conn.resume(ch, TN, 0, undefined)
  conn.deliver(ch, message(ch, TN, 1))
  outlet.bufferedAmount = 101
  conn.deliver(ch, message(ch, TN, 2))
  outlet.bufferedAmount = 0
  conn.deliver(ch, message(ch, TN, 3))
  t.same(outlet.seqs(ch), [1])
  t.equal(outlet.closedWith?.code, 1013)
  t.ok(conn.closed)
})

t.test('too many messages waiting behind a gap fill closes with 1013', async (t) => {
  const { outlet, log, conn } = setup({ maxPending: 5 })
  const ch = `package:${TN}`
  conn.open(ch, serializerFor(ch))
  log.hold()
  const resumed = conn.resume(ch, TN, 2, 0)
  log.append(TN, 2)
  for (let seq = 3; seq <= 9; seq++) conn.deliver(ch, message(ch, TN, seq))
  t.equal(outlet.closedWith?.code, 1013)
  log.release()
  await resumed
  t.same(outlet.seqs(ch), [], 'nothing is sent after the close')
})

t.test('a gap fill that fails closes the connection so the client can resume, instead of stalling the channel', async (t) => {
  const { outlet, log, conn, errors } = setup()
  const ch = `package:${TN}`
  conn.open(ch, serializerFor(ch))
  await conn.resume(ch, TN, 1, undefined)
  log.append(TN, 3)
  log.failNext = true
  conn.deliver(ch, message(ch, TN, 3))
  await settle()
  await settle()
  t.equal(errors.length, 1, 'the failure is reported')
  t.equal(outlet.closedWith?.code, 1011, 'closed with 1011 (internal error): the client resumes with since')
  t.ok(conn.closed)
})

t.test('when the log lacks the missing seqs the live event still goes out (no endless re-reads)', async (t) => {
  const { outlet, log, conn } = setup()
  const ch = `package:${TN}`
  conn.open(ch, serializerFor(ch))
  await conn.resume(ch, TN, 1, undefined)
  conn.deliver(ch, message(ch, TN, 4))
  await settle()
  await settle()
  t.equal(log.reads, 1, 'the log was read once')
  t.same(outlet.seqs(ch), [4])
  conn.deliver(ch, message(ch, TN, 5))
  t.same(outlet.seqs(ch), [4, 5])
})
