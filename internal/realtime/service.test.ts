import t from 'tap'
import type { Principal } from '../auth/domain.js'
import { notFound } from '../platform/errors.js'
import { Connection, type Outlet } from './connection.js'
import type { EventEnvelope } from './envelope.js'
import { RealtimeService } from './service.js'

// RealtimeService with in-memory stand-ins for its ports (package access, event
// log, trackers): the rules that do not need a database.

const TN = 'DT0000000001'
const admin: Principal = { id: '00000000-0000-0000-0000-000000000001', role: 'admin', kind: 'user' }
const quiet = { warn: () => undefined, info: () => undefined }

const env = (seq: number, tn = TN): EventEnvelope => ({
  id: `${tn}-${seq}`,
  type: 'package.status_changed',
  trackingNumber: tn,
  seq,
  occurredAt: '2024-01-01T00:00:00.000Z',
  recordedAt: '2024-01-01T00:00:00.000Z',
  data: { status: 'in_transit' },
})

class Recorder implements Outlet {
  frames: string[] = []
  bufferedAmount = 0
  send(data: string): void {
    this.frames.push(data)
  }
  close(): void {}
  seqs(): number[] {
    return this.frames.map((f) => JSON.parse(f) as { type: string; event?: EventEnvelope }).filter((m) => m.type === 'event').map((m) => m.event!.seq!)
  }
}

function service(opts: { since?: (tn: string, after: number) => Promise<EventEnvelope[]>; recordedSince?: () => Promise<EventEnvelope[]> } = {}) {
  const log = { since: opts.since ?? (async () => []) }
  const realtime = new RealtimeService({
    access: {
      readableSeq: async (_p, tn) => {
        if (tn !== TN) throw notFound('package')
        return 3
      },
      publicSeq: async () => 3,
    },
    eventLog: log,
    trackers: { trackers: async () => [] },
    recordedSince: opts.recordedSince ?? (async () => []),
    log: quiet,
  })
  const outlet = new Recorder()
  const conn = new Connection({ id: 1, outlet, log, maxBufferedBytes: 1 << 20 })
  realtime.connections.add(conn)
  return { realtime, conn, outlet }
}

t.test('a subscription whose history cannot be read is not left behind', async (t) => {
  const { realtime, conn } = service({ since: async () => Promise.reject(new Error('database unavailable')) })
  let acked: number | undefined
  await t.rejects(realtime.subscribe(conn, admin, `package:${TN}`, 0, (seq) => (acked = seq)), /database unavailable/)
  t.equal(acked, 3)
  t.notOk(conn.has(`package:${TN}`), 'the connection no longer has the channel')
  t.equal(realtime.hub.subscriptions, 0, 'the hub no longer routes to it')
})

t.test('a refused subscription leaves nothing registered', async (t) => {
  const { realtime, conn } = service()
  await t.rejects(realtime.subscribe(conn, admin, 'package:DT0000000099', undefined, () => undefined), { code: 'not_found' })
  await t.rejects(realtime.subscribe(conn, undefined, `package:${TN}`, undefined, () => undefined), { code: 'forbidden' })
  await t.rejects(realtime.subscribe(conn, { ...admin, role: 'customer' }, 'all', undefined, () => undefined), { code: 'forbidden' })
  t.equal(realtime.hub.subscriptions, 0)
  t.same(conn.channelNames, [])
})

t.test('messages that are not event envelopes are ignored', async (t) => {
  const { realtime, conn, outlet } = service()
  await realtime.subscribe(conn, admin, 'all', undefined, () => undefined)
  realtime.receive({ hello: 'world' })
  realtime.receive('text')
  realtime.receive(null)
  realtime.receive(env(4))
  t.same(outlet.seqs(), [4])
})

t.test('catch-up after an outage: live events that arrive during the replay wait for it', async (t) => {
  // An `all` subscriber has no cursor for a package it has not heard of yet. If a
  // live seq 7 went out before the replay of 5 and 6, those would be dropped as old.
  let release!: () => void
  const replay = new Promise<void>((r) => (release = r))
  const { realtime, conn, outlet } = service({
    recordedSince: async () => {
      await replay
      return [env(5), env(6)]
    },
  })
  await realtime.subscribe(conn, admin, 'all', undefined, () => undefined)
  const caughtUp = realtime.catchUp(new Date())
  realtime.receive(env(7))
  realtime.receive(env(6))
  release()
  t.equal(await caughtUp, 2)
  realtime.receive(env(8))
  t.same(outlet.seqs(), [5, 6, 7, 8])
})
