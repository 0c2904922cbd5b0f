import t from 'tap'
import type { PackageEvent } from '../events/envelope.js'
import type { Timers } from '../platform/timers.js'
import { LiveThrottle } from './throttle.js'

/** Timers that move only when the test says so. */
class FakeTimers implements Timers {
  private time = 1_000_000
  private queue: Array<{ at: number; fn: () => void; id: number }> = []
  private ids = 0
  now = () => this.time
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.ids
    this.queue.push({ at: this.time + ms, fn, id })
    return id
  }
  clearTimeout = (id: unknown) => {
    this.queue = this.queue.filter((q) => q.id !== id)
  }
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at)
      const next = this.queue[0]
      if (!next || next.at > end) break
      this.queue.shift()
      this.time = next.at
      next.fn()
    }
    this.time = end
  }
  get pending(): number {
    return this.queue.length
  }
}

const event = (tn: string, n: number): PackageEvent => ({
  id: `${tn}-${n}`,
  type: 'package.location',
  trackingNumber: tn,
  occurredAt: new Date(n * 1000),
  recordedAt: new Date(),
  data: { n },
})

function setup() {
  const timers = new FakeTimers()
  const sent: Array<{ id: string; at: number }> = []
  const throttle = new LiveThrottle((e) => sent.push({ id: e.id, at: timers.now() }), 333, timers)
  const offer = (tn: string, n: number) => throttle.offer(event(tn, n), n * 1000)
  return { timers, sent, throttle, offer }
}

t.test('the first event goes out at once, a burst becomes one trailing event with the latest point', async (t) => {
  const { timers, sent, offer, throttle } = setup()
  offer('A', 1)
  t.same(sent.map((s) => s.id), ['A-1'])
  timers.advance(50)
  offer('A', 2)
  timers.advance(50)
  offer('A', 3)
  t.equal(sent.length, 1, 'nothing more inside the interval')
  timers.advance(232)
  t.equal(sent.length, 1, 'still inside the interval')
  timers.advance(1)
  t.same(sent.map((s) => s.id), ['A-1', 'A-3'], 'the trailing event carries the latest point')
  t.equal(sent[1]!.at - sent[0]!.at, 333)
  t.equal(throttle.coalesced, 1)
  timers.advance(10_000)
  t.equal(sent.length, 2, 'nothing is repeated')
  offer('A', 4)
  t.same(sent.map((s) => s.id), ['A-1', 'A-3', 'A-4'], 'after a quiet spell the next goes out at once')
})

t.test('at most one event per interval under a steady stream', async (t) => {
  const { timers, sent, offer } = setup()
  for (let i = 1; i <= 100; i++) {
    offer('A', i)
    timers.advance(50)
  }
  timers.advance(1_000)
  const gaps = sent.slice(1).map((s, i) => s.at - sent[i]!.at)
  t.ok(gaps.every((g) => g >= 333), 'no two events closer than the interval')
  t.ok(sent.length <= Math.ceil((100 * 50) / 333) + 1, `${sent.length} events for 100 batches over 5 s`)
  t.equal(sent.at(-1)!.id, 'A-100', 'the last point is always delivered')
})

t.test('packages are throttled independently', async (t) => {
  const { sent, offer } = setup()
  offer('A', 1)
  offer('B', 1)
  offer('C', 1)
  t.same(sent.map((s) => s.id), ['A-1', 'B-1', 'C-1'])
})

t.test('an older point never goes out after a newer one', async (t) => {
  const { timers, sent, offer } = setup()
  offer('A', 10)
  offer('A', 5)
  timers.advance(1_000)
  t.same(sent.map((s) => s.id), ['A-10'], 'older than what was sent: dropped')
  offer('A', 12)
  timers.advance(100)
  offer('A', 20)
  offer('A', 15)
  timers.advance(1_000)
  t.same(sent.map((s) => s.id), ['A-10', 'A-12', 'A-20'], 'older than what is waiting: dropped')
})

t.test('close drops what is waiting and cancels its timers', async (t) => {
  const { timers, sent, offer, throttle } = setup()
  offer('A', 1)
  offer('A', 2)
  t.equal(timers.pending, 1)
  throttle.close()
  t.equal(timers.pending, 0)
  timers.advance(1_000)
  t.same(sent.map((s) => s.id), ['A-1'])
})

t.test('quiet packages are forgotten', async (t) => {
  const { timers, offer, throttle } = setup()
  offer('A', 1)
  offer('B', 1)
  t.equal(throttle.packages, 2)
  timers.advance(61_000)
  offer('C', 1)
  t.equal(throttle.packages, 1, 'only C is remembered')
})
