import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { Bus, BusMessage, RoleConsumer } from './bus.js'
import type { EventEnvelope, EventType } from './envelope.js'
import { PermanentError, type Delivery, type RoleHandler } from './roles.js'
import { ROLE_BINDINGS, type RetryPolicy } from './topology.js'

/** Short delays and a small budget, so retries and dead letters happen within a test. */
export const CONTRACT_RETRY: RetryPolicy = { delaysMs: [50, 150], maxAttempts: 3 }

export interface BusFixture {
  /** The bus a gateway would use: it publishes and has a hub subscription. */
  gateway: Bus
  /**
   * A bus for a worker: a new process's bus on the same broker, or, where there is
   * only one process (memory), the same bus. Its predecessor must have been closed
   * or its consumers stopped first.
   */
  worker(): Promise<Bus>
}

/** Builds a fixture whose buses declare the three roles' queues with CONTRACT_RETRY. */
export type BusFactory = (t: Test) => Promise<BusFixture>

const QUEUES = Object.entries(ROLE_BINDINGS).map(([role, bindings]) => ({ role, bindings }))
export const CONTRACT_QUEUES: ReadonlyArray<{ role: string; bindings: readonly string[] }> = QUEUES

export function event(type: EventType, trackingNumber = 'DT0000000001A', seq?: number): EventEnvelope {
  const at = new Date().toISOString()
  return { id: randomUUID(), type, trackingNumber, ...(seq === undefined ? {} : { seq }), occurredAt: at, recordedAt: at, data: seq === undefined ? {} : { seq } }
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A handler that records what it is given and fails as `fail` says. */
function recorder(role: string, fail: (d: Delivery) => Error | undefined = () => undefined) {
  const seen: Delivery[] = []
  const handler: RoleHandler = {
    role,
    async handle(d) {
      seen.push(d)
      const err = fail(d)
      if (err) throw err
    },
  }
  return { handler, seen }
}

/**
 * What every Bus adapter must do: topic routing to the hub and to role queues,
 * durable queues that keep messages while no consumer runs, retries after their
 * delays, dead letters and their requeue, per-package order, and a probe that
 * tells a broker that answers from one that does not.
 */
export function busContract(t: Test, factory: BusFactory): void {
  for (const batched of [false, true]) {
    const mode = batched ? 'batched consumer' : 'per-message consumer'
    const consume = (bus: Bus, handler: RoleHandler, t: Test): Promise<RoleConsumer> =>
      bus.consume(handler, { prefetch: 50, batched }).then((c) => {
        t.teardown(() => c.stop())
        return c
      })

    t.test(`${mode}: each queue gets the event types it is bound to; the hub gets every one with its origin`, async (t) => {
      const { gateway, worker } = await factory(t)
      const hub: BusMessage[] = []
      await gateway.subscribe((m) => hub.push(m))
      const w = await worker()
      const roles = Object.fromEntries(QUEUES.map(({ role }) => [role, recorder(role)]))
      for (const r of Object.values(roles)) await consume(w, r.handler, t)
      const sent = [event('package.created'), event('package.status_changed'), event('package.location')]
      await gateway.publish(sent.map((e) => ({ event: e, origin: 'gw-1' })))
      await until(() => hub.length === 3 && roles.webhooks!.seen.length === 3 && roles.archive!.seen.length === 2 && roles.notify!.seen.length === 1, 'every queue to get its events')
      t.same(hub.map((m) => [m.event.id, m.origin]), sent.map((e) => [e.id, 'gw-1']), 'the hub: all three, in order, with their origin')
      t.same(roles.webhooks!.seen.map((d) => d.event), sent, 'webhooks: all three, as sent')
      t.same(roles.archive!.seen.map((d) => d.event.type), ['package.created', 'package.status_changed'], 'archive: durable events only')
      t.same(roles.notify!.seen.map((d) => d.event.type), ['package.status_changed'], 'notify: status changes only')
      t.same(roles.notify!.seen[0], { event: sent[1], attempt: 1, final: false }, 'first attempt')
    })

    t.test(`${mode}: a role's queue keeps what is published while no consumer runs`, async (t) => {
      const { gateway, worker } = await factory(t)
      const first = await worker()
      const before = recorder('notify')
      const consumer = await consume(first, before.handler, t)
      await gateway.publish([{ event: event('package.status_changed', 'DTKEEP0000001', 1) }])
      await until(() => before.seen.length === 1, 'the first consumer to get one')
      await consumer.stop()
      if (first !== gateway) await first.close()
      const kept = [2, 3, 4, 5, 6].map((seq) => event('package.status_changed', 'DTKEEP0000001', seq))
      await gateway.publish(kept.map((e) => ({ event: e })))
      await until(async () => (await gateway.queueStats())['delivertrack.notify']?.messages === 5, 'the queue to hold the five')
      const after = recorder('notify')
      await consume(await worker(), after.handler, t)
      await until(() => after.seen.length === 5, 'the next consumer to get the five')
      t.same(after.seen.map((d) => d.event.seq), [2, 3, 4, 5, 6], 'all of them, in order, once')
      t.same(before.seen.map((d) => d.event.seq), [1], 'the stopped consumer got nothing more')
    })

    t.test(`${mode}: a failure comes back after its delay, with the next attempt, until it succeeds`, async (t) => {
      const { gateway, worker } = await factory(t)
      const times: number[] = []
      const r = recorder('notify', (d) => {
        times.push(Date.now())
        return d.attempt < 3 ? new Error(`flaky ${d.attempt}`) : undefined
      })
      const consumer = await consume(await worker(), r.handler, t)
      const e = event('package.status_changed')
      await gateway.publish([{ event: e }])
      await until(() => consumer.counters.acked === 1, 'the third attempt to succeed')
      t.same(r.seen.map((d) => [d.event.id, d.attempt, d.final]), [[e.id, 1, false], [e.id, 2, false], [e.id, 3, true]], 'attempts 1, 2 and a final 3')
      t.ok(times[1]! - times[0]! >= CONTRACT_RETRY.delaysMs[0]! - 5, 'the first retry waited its delay')
      t.ok(times[2]! - times[1]! >= CONTRACT_RETRY.delaysMs[1]! - 5, 'the second waited the longer one')
      t.match(consumer.counters, { acked: 1, retried: 2, deadLettered: 0 })
      const stats = (await gateway.queueStats())['delivertrack.notify']
      t.match(stats, { messages: 0, retrying: 0, deadLetters: 0 }, 'nothing left behind')
    })

    t.test(`${mode}: what fails every attempt, or permanently, waits in the dead letters until requeued`, async (t) => {
      const { gateway, worker } = await factory(t)
      let healthy = false
      const r = recorder('webhooks', (d) => (healthy ? undefined : d.event.data.permanent ? new PermanentError('malformed') : new Error('endpoint down')))
      const w = await worker()
      const consumer = await consume(w, r.handler, t)
      const failing = event('package.updated')
      const malformed = { ...event('package.updated'), data: { permanent: true } }
      await gateway.publish([{ event: failing }, { event: malformed }])
      await until(async () => (await gateway.queueStats())['delivertrack.webhooks']?.deadLetters === 2, 'both to be dead-lettered')
      t.same(r.seen.filter((d) => d.event.id === failing.id).map((d) => d.attempt), [1, 2, 3], 'the failing one: every attempt')
      t.same(r.seen.filter((d) => d.event.id === malformed.id).map((d) => d.attempt), [1], 'the permanent one: once')
      t.equal(consumer.counters.deadLettered, 2)
      healthy = true
      const moved = await w.requeueDeadLetters('webhooks')
      t.same(moved, { requeued: 2, remaining: 0 })
      await until(() => consumer.counters.acked === 2, 'the requeued letters to be handled')
      t.same(r.seen.slice(-2).map((d) => d.attempt), [1, 1], 'with a fresh budget')
    })

    t.test(`${mode}: each package's events are handed out in the order they were published`, async (t) => {
      const { gateway, worker } = await factory(t)
      const r = recorder('archive')
      await consume(await worker(), r.handler, t)
      const numbers = ['DTORDER000001', 'DTORDER000002', 'DTORDER000003']
      const messages: BusMessage[] = []
      for (let seq = 1; seq <= 100; seq++) for (const tn of numbers) messages.push({ event: event('package.updated', tn, seq) })
      for (let i = 0; i < messages.length; i += 30) await gateway.publish(messages.slice(i, i + 30))
      await until(() => r.seen.length === 300, 'all 300')
      for (const tn of numbers) {
        const seqs = r.seen.filter((d) => d.event.trackingNumber === tn).map((d) => d.event.seq)
        t.same(seqs, Array.from({ length: 100 }, (_, i) => i + 1), `${tn}: 1..100 in order`)
      }
    })
  }

  t.test('a connected bus answers a probe and reads its queues', async (t) => {
    const { gateway } = await factory(t)
    await t.resolves(gateway.probe(), 'the broker answered')
    const stats = await gateway.queueStats()
    t.same(Object.keys(stats).sort(), QUEUES.map(({ role }) => `delivertrack.${role}`).sort(), 'every declared queue')
  })

  t.test('a closed bus refuses to publish instead of losing the events, and fails its probe', async (t) => {
    const { gateway } = await factory(t)
    await gateway.close()
    t.notOk(gateway.connected)
    await t.rejects(gateway.publish([{ event: event('package.created') }]))
    await t.rejects(gateway.probe(), 'not connected: the probe fails at once')
    await t.rejects(gateway.queueStats(), 'queue figures it cannot read are not reported as empty')
  })
}
