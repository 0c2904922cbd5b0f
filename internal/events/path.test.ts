import t, { type Test } from 'tap'
import type { Bus } from './bus.js'
import { MemoryBus } from './bus-memory.js'
import type { EventEnvelope, PackageEvent } from './envelope.js'
import type { EventLogReader, LoggedEvent, Outbox } from './log.js'
import { EventPath } from './path.js'
import { OutboxRelay } from './relay.js'

// The gateway's side of the event path, on the in-process bus: which copy of an
// event reaches the hub, and in what order around a catch-up.

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }
const at = '2026-01-01T00:00:00.000Z'
const env = (seq: number, tn = 'DT0000000001'): EventEnvelope => ({ id: `${tn}-${seq}`, type: 'package.status_changed', trackingNumber: tn, seq, occurredAt: at, recordedAt: at, data: {} })
const event = (seq: number): PackageEvent => ({ ...env(seq), occurredAt: new Date(at), recordedAt: new Date(at) })

/** An outbox holding what the test puts in it. */
class ListOutbox implements Outbox {
  pending: LoggedEvent[] = []
  async drain(limit: number, publish: (batch: LoggedEvent[]) => Promise<void>): Promise<number> {
    const batch = this.pending.slice(0, limit)
    await publish(batch)
    this.pending.splice(0, batch.length)
    return batch.length
  }
}

async function setup(t: Test, log: EventLogReader = { since: async () => [], recordedSince: async () => [] }) {
  const bus: Bus = new MemoryBus({ queues: [], retry: { delaysMs: [10], maxAttempts: 1 }, log: quiet })
  const outbox = new ListOutbox()
  const relay = new OutboxRelay({ outbox, bus, log: quiet, coalesceMs: 0 })
  const hub: EventEnvelope[] = []
  const path = new EventPath({ instanceId: 'gw-a', bus, relay, log, sink: { receive: (e) => hub.push(e) }, logger: quiet })
  await path.start()
  await bus.start()
  t.teardown(async () => {
    await path.stop()
    await bus.close()
  })
  return { bus, outbox, relay, path, hub }
}

const settle = () => new Promise((r) => setImmediate(r))

t.test('a commit reaches the hub at once and through the relay once, not twice', async (t) => {
  const { outbox, relay, path, hub } = await setup(t)
  outbox.pending.push({ event: env(2), origin: 'gw-a' })
  path.committed([event(2)])
  t.same(hub.map((e) => e.seq), [2], 'at once, before any publishing')
  await relay.idle()
  await settle()
  t.equal(outbox.pending.length, 0, 'the relay published it')
  t.same(hub.map((e) => e.seq), [2], 'its copy from the bus was skipped by origin')
})

t.test("another gateway's events and unattributed ones reach the hub through the bus", async (t) => {
  const { bus, hub } = await setup(t)
  await bus.publish([{ event: env(3), origin: 'gw-b' }, { event: env(4) }, { event: env(5), origin: 'gw-a' }])
  await settle()
  t.same(hub.map((e) => e.seq), [3, 4], "gw-b's and the one without an origin; not our own")
})

t.test('a live event reaches the hub at once and the bus carries it to the others', async (t) => {
  const { bus, path, hub } = await setup(t)
  const seen: Array<string | undefined> = []
  await bus.subscribe((m) => seen.push(m.origin))
  path.live({ ...event(0), type: 'package.location', seq: undefined })
  t.equal(hub.length, 1)
  await settle()
  await settle()
  t.same(seen, ['gw-a'], 'published, marked as ours')
  t.equal(hub.length, 1, 'and not routed a second time')
})

t.test('catch-up: events arriving during the replay wait for it; our own are not replayed', async (t) => {
  // An `all` subscriber has no cursor for a package it has not heard of yet: if live
  // seq 7 went out before the replay of 5 and 6, those would be dropped as old.
  let release!: () => void
  const replay = new Promise<void>((r) => (release = r))
  const log: EventLogReader = {
    since: async () => [],
    recordedSince: async () => {
      await replay
      return [{ event: env(5), origin: 'gw-b' }, { event: env(6), origin: 'gw-a' }, { event: env(6, 'DT0000000002') }]
    },
  }
  const { bus, path, hub } = await setup(t, log)
  const caughtUp = path.catchUp(new Date())
  await bus.publish([{ event: env(7), origin: 'gw-b' }])
  await settle()
  path.committed([event(8)])
  t.same(hub, [], 'nothing routed while the replay runs')
  release()
  t.equal(await caughtUp, 2)
  t.same(hub.map((e) => `${e.trackingNumber}:${e.seq}`), ['DT0000000001:5', 'DT0000000002:6', 'DT0000000001:7', 'DT0000000001:8'])
})
