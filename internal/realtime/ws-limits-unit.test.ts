import t from 'tap'
import { ManualClock } from './testing/manual-clock.js'
import { ConnectionsPerIp, Deadlines, TokenBucket } from './ws-limits.js'

t.test('the token bucket gives a burst, then refills at its rate', async (t) => {
  const clock = new ManualClock(0)
  const bucket = new TokenBucket(3, 2, clock)
  t.same([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false])
  clock.advance(500)
  t.same([bucket.take(), bucket.take()], [true, false], 'one token after half a second at 2/s')
  clock.advance(60_000)
  t.same([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false], 'never more than the burst')
})

t.test('deadlines: one timer per distinct time, fired once, cancellable', async (t) => {
  const clock = new ManualClock(0)
  const deadlines = new Deadlines(clock)
  const fired: string[] = []
  const holder = (name: string) => ({ due: () => fired.push(name) })
  const [a, b, c, d] = [holder('a'), holder('b'), holder('c'), holder('d')]
  deadlines.add(1000, a)
  deadlines.add(1000, b)
  deadlines.add(2000, c)
  t.equal(deadlines.size, 2, 'sockets expiring at the same moment share a timer')
  deadlines.remove(1000, b)
  clock.set(999)
  t.same(fired, [])
  clock.set(1000)
  t.same(fired, ['a'], 'a cancelled one does not fire')
  deadlines.remove(1000, a)
  deadlines.add(2000, d)
  deadlines.remove(2000, d)
  clock.set(5000)
  t.same(fired, ['a', 'c'])
  t.equal(deadlines.size, 0)
  deadlines.add(10, holder('past'))
  t.same(fired.at(-1), 'past', 'a time already past fires at once')
})

t.test('connections per IP', async (t) => {
  const ips = new ConnectionsPerIp(2)
  t.same([ips.acquire('a'), ips.acquire('a'), ips.acquire('a'), ips.acquire('b')], [true, true, false, true])
  t.ok(ips.full('a'))
  ips.release('a')
  t.notOk(ips.full('a'))
  t.equal(ips.count('a'), 1)
})
