import t from 'tap'
import { Hub, type Subscriber } from './hub.js'

class Sink implements Subscriber<string> {
  static ids = 0
  readonly id = ++Sink.ids
  received: Array<[string, string]> = []
  onDeliver: ((channel: string, message: string) => void) | undefined
  deliver(channel: string, message: string): void {
    this.received.push([channel, message])
    this.onDeliver?.(channel, message)
  }
}

t.test('a message reaches every subscriber of its channel, in publish order, and no one else', async (t) => {
  const hub = new Hub<string>()
  const a = new Sink()
  const b = new Sink()
  const other = new Sink()
  hub.subscribe('package:X', a)
  hub.subscribe('package:X', b)
  hub.subscribe('package:Y', other)
  t.equal(hub.publish('package:X', 'm1'), 2)
  t.equal(hub.publish('package:X', 'm2'), 2)
  t.equal(hub.publish('package:Z', 'nobody'), 0)
  t.same(a.received, [['package:X', 'm1'], ['package:X', 'm2']])
  t.same(b.received, a.received)
  t.same(other.received, [])
  t.equal(hub.delivered, 4)
})

t.test('subscription bookkeeping: counts, duplicates, kinds and channel listing', async (t) => {
  const hub = new Hub<string>()
  const a = new Sink()
  const b = new Sink()
  t.ok(hub.subscribe('user:1', a))
  t.notOk(hub.subscribe('user:1', a), 'subscribing twice is a no-op')
  t.ok(hub.subscribe('user:2', b))
  t.ok(hub.subscribe('all', b))
  t.equal(hub.subscriptions, 3)
  t.ok(hub.hasKind('user'))
  t.ok(hub.hasKind('all'))
  t.notOk(hub.hasKind('package'))
  t.same(hub.channels('user:').sort(), ['user:1', 'user:2'])
  t.ok(hub.unsubscribe('user:1', a))
  t.notOk(hub.unsubscribe('user:1', a), 'unsubscribing twice is a no-op')
  t.notOk(hub.unsubscribe('never', a))
  t.ok(hub.hasKind('user'), 'user:2 is still there')
  t.ok(hub.unsubscribe('user:2', b))
  t.notOk(hub.hasKind('user'))
  t.notOk(hub.hasSubscribers('user:2'))
  t.equal(hub.subscriptions, 1)
  t.equal(hub.publish('user:1', 'gone'), 0)
  t.same(a.received, [])
})

t.test('many channels stay independent', async (t) => {
  const hub = new Hub<string>()
  const sinks = Array.from({ length: 200 }, () => new Sink())
  sinks.forEach((s, i) => hub.subscribe(`package:P${i}`, s))
  sinks.forEach((_, i) => hub.publish(`package:P${i}`, `m${i}`))
  t.ok(sinks.every((s, i) => s.received.length === 1 && s.received[0]![1] === `m${i}`))
  t.equal(hub.channels('package:').length, 200)
  t.equal(hub.subscriptions, 200)
})

t.test('a subscriber added while a message is being published does not get that message', async (t) => {
  const hub = new Hub<string>()
  const first = new Sink()
  const late = new Sink()
  first.onDeliver = () => hub.subscribe('package:X', late)
  hub.subscribe('package:X', first)
  t.equal(hub.publish('package:X', 'before'), 1, 'counts the subscribers it delivered to')
  t.same(late.received, [], 'it was not registered when the message was published')
  hub.publish('package:X', 'after')
  t.same(late.received, [['package:X', 'after']])
})

t.test('a subscriber may unsubscribe itself or others while a message is being published', async (t) => {
  const hub = new Hub<string>()
  const a = new Sink()
  const b = new Sink()
  a.onDeliver = () => {
    hub.unsubscribe('package:X', a)
    hub.unsubscribe('package:X', b)
  }
  hub.subscribe('package:X', a)
  hub.subscribe('package:X', b)
  hub.publish('package:X', 'm1')
  hub.publish('package:X', 'm2')
  t.same(a.received, [['package:X', 'm1']])
  t.same(b.received.filter(([, m]) => m === 'm2'), [], 'nothing after unsubscribing')
  t.equal(hub.subscriptions, 0)
  t.notOk(hub.hasKind('package'))
})
