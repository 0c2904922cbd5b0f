import t from 'tap'
import type { Principal } from '../auth/domain.js'
import { notFound } from '../platform/errors.js'
import { Connection, type Outlet } from './connection.js'
import type { EventEnvelope } from '../events/envelope.js'
import { RealtimeService } from './service.js'

// RealtimeService with in-memory stand-ins for its ports (package access, event
// log, trackers): the rules that do not need a database.

const TN = 'DT0000000001'
const admin: Principal = { id: '00000000-0000-0000-0000-000000000001', role: 'admin', kind: 'user' }
const quiet = { warn: () => undefined, info: () => undefined }


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

function service(opts: { since?: (tn: string, after: number) => Promise<EventEnvelope[]> } = {}) {
  const log = { since: opts.since ?? (async () => []) }
  const realtime = new RealtimeService({
    access: {
      readableSeq: async (_p, tn) => {
        if (tn !== TN) throw notFound('package')
        return 3
      },
      publicSeq: async () => 3,
      currentRole: async (id) => (id === admin.id ? 'admin' : 'customer'),
    },
    eventLog: log,
    audience: { audience: async () => [] },
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
  await t.rejects(realtime.subscribe(conn, { ...admin, id: '00000000-0000-0000-0000-000000000002', role: 'customer' }, 'all', undefined, () => undefined), { code: 'forbidden' })
  t.equal(realtime.hub.subscriptions, 0)
  t.same(conn.channelNames, [])
})


t.test('a notification notice goes to its user’s channel only: not all, not the package’s channels', async (t) => {
  const { realtime, conn, outlet } = service()
  for (const channel of ['all', `package:${TN}`, `track:${TN}`, `user:${admin.id}`]) await realtime.subscribe(conn, admin, channel, undefined, () => undefined)
  const other = { ...admin, id: '00000000-0000-0000-0000-000000000002' }
  const notice = (userId: string): EventEnvelope => ({ id: userId, type: 'notification.created', trackingNumber: TN, occurredAt: '', recordedAt: '', data: { userId, notification: {} } })
  realtime.receive(notice(admin.id))
  realtime.receive(notice(other.id))
  const got = outlet.frames.map((f) => JSON.parse(f) as { type: string; channel: string; event: EventEnvelope }).filter((m) => m.type === 'event')
  t.same(got.map((m) => [m.channel, m.event.data.userId]), [[`user:${admin.id}`, admin.id]])
})
