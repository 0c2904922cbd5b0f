import type { Channel, ConfirmChannel, Connection, GetMessage } from 'amqplib/callback_api'
import rascal from 'rascal'
import type { BrokerAsPromised as Broker, BrokerConfig } from 'rascal'
import type { QueueStat } from './bus.js'
import { explainBrokerError } from './bus-rabbitmq-topology.js'
import type { RoleQueues } from './topology.js'

/**
 * A rascal broker for `config`, asked again with backoff (250 ms doubling to 10 s)
 * until it connects, or undefined once `closed()`. `attach` gets each new broker
 * before anything else can happen on it (its error and recovery listeners);
 * `unreachable` hears each failed try, the broker's refusal explained.
 */
export async function createBroker(config: BrokerConfig, opts: { closed(): boolean; attach(broker: Broker): void; unreachable(err: string, retryInMs: number): void }): Promise<Broker | undefined> {
  let delay = 250
  while (!opts.closed()) {
    try {
      const broker = await rascal.BrokerAsPromised.create(config)
      opts.attach(broker)
      if (!opts.closed()) return broker
      await broker.shutdown()
      return undefined
    } catch (err) {
      // rascal hands back the half-initialised broker on the error; unless it is shut
      // down, its keep-alive interval leaks and the process never exits after close().
      const e = err as { broker?: symbol } & Record<symbol, Broker | undefined>
      await (e.broker ? e[e.broker] : undefined)?.shutdown().catch(() => undefined)
      opts.unreachable(explainBrokerError(err), delay)
      await new Promise((r) => setTimeout(r, delay).unref())
      delay = Math.min(delay * 2, 10_000)
    }
  }
  return undefined
}

// amqplib channels on connections opened through rascal (broker.connect: the same URL
// and socket settings), for the work rascal's publications and subscriptions do one
// message at a time: ordered batches, burst acknowledgements, queue checks.

/** Closes the connection; gives up waiting after `waitMs`, since a broker that stopped answering never confirms. */
export function closeQuietly(connection: Connection, waitMs = 2_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, waitMs)
    timer.unref()
    try {
      connection.close(() => {
        clearTimeout(timer)
        resolve()
      })
    } catch {
      clearTimeout(timer)
      resolve() // already closed
    }
  })
}

const connectionOf = async (broker: Broker) => (await broker.connect('/')) as unknown as Connection

/** A confirm channel on a connection of its own; `lost` runs once when either dies. */
export async function openConfirmChannel(broker: Broker, lost: () => void): Promise<{ connection: Connection; channel: ConfirmChannel }> {
  const connection = await connectionOf(broker)
  let gone = false
  const reset = () => {
    if (gone) return
    gone = true
    lost()
    void closeQuietly(connection)
  }
  connection.on('error', reset)
  connection.on('close', reset)
  try {
    const channel = await new Promise<ConfirmChannel>((resolve, reject) => connection.createConfirmChannel((err, ch) => (err ? reject(err) : resolve(ch))))
    channel.on('error', reset)
    channel.on('close', reset)
    return { connection, channel }
  } catch (err) {
    reset()
    throw err
  }
}

/** A plain channel on a connection of its own (the caller watches and closes both). */
export async function openChannel(broker: Broker): Promise<{ connection: Connection; channel: Channel }> {
  const connection = await connectionOf(broker)
  try {
    const channel = await new Promise<Channel>((resolve, reject) => connection.createChannel((err, ch) => (err ? reject(err) : resolve(ch))))
    return { connection, channel }
  } catch (err) {
    void closeQuietly(connection)
    throw err
  }
}

function call<T>(fn: (cb: (err: unknown, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))))
}

/** Messages and consumers of each queue that exists (a passive check never creates one). */
async function check(connection: Connection, names: string[]): Promise<Map<string, { messages: number; consumers: number }>> {
  const out = new Map<string, { messages: number; consumers: number }>()
  for (const name of names) {
    // A failed check closes its channel, so each queue gets its own.
    const channel = await call<Channel>((cb) => connection.createChannel(cb))
    channel.on('error', () => undefined)
    try {
      const q = await call<{ messageCount: number; consumerCount: number }>((cb) => channel.checkQueue(name, cb))
      out.set(name, { messages: q.messageCount, consumers: q.consumerCount })
      closeChannel(channel)
    } catch {
      // missing queue: nothing to report
    }
  }
  return out
}

/** Each role's work queue with its retrying and dead-lettered messages (roles without a work queue are left out). */
export async function statsOf(connection: Connection, roles: RoleQueues[]): Promise<Record<string, QueueStat>> {
  const raw = await check(connection, roles.flatMap((n) => [n.work, ...n.delays, n.dead]))
  const out: Record<string, QueueStat> = {}
  for (const n of roles) {
    const work = raw.get(n.work)
    if (!work) continue
    const retrying = n.delays.reduce((sum, d) => sum + (raw.get(d)?.messages ?? 0), 0)
    out[n.work] = { messages: work.messages, consumers: work.consumers, retrying, deadLetters: raw.get(n.dead)?.messages ?? 0 }
  }
  return out
}

/**
 * Moves dead letters back to the work queue with a fresh retry budget (rascal's
 * recovery counters and x-death removed). Each is acknowledged on the dead-letter
 * queue only after the broker confirmed its copy, so a crash duplicates at worst
 * (roles are idempotent) and never loses. At most the messages present at the
 * start move, so letters that die again are not looped.
 */
export async function requeueDead(connection: Connection, names: RoleQueues, limit: number): Promise<{ requeued: number; remaining: number }> {
  const channel = await call<ConfirmChannel>((cb) => connection.createConfirmChannel(cb))
  try {
    const { messageCount } = await call<{ messageCount: number }>((cb) => channel.checkQueue(names.dead, cb))
    const target = Math.min(messageCount, limit)
    let requeued = 0
    while (requeued < target) {
      const batch: GetMessage[] = []
      while (batch.length < 500 && requeued + batch.length < target) {
        const message = await call<GetMessage | false>((cb) => channel.get(names.dead, { noAck: false }, cb))
        if (!message) break
        batch.push(message)
        const headers = { ...message.properties.headers }
        delete headers['x-death']
        const own = headers.rascal as { recovery?: unknown } | undefined
        if (own) headers.rascal = { ...own, recovery: undefined }
        channel.publish('', names.work, message.content, { ...message.properties, headers, persistent: true })
      }
      if (batch.length === 0) break
      await call<void>((cb) => channel.waitForConfirms((err) => cb(err, undefined)))
      for (const m of batch) channel.ack(m)
      requeued += batch.length
    }
    const { messageCount: remaining } = await call<{ messageCount: number }>((cb) => channel.checkQueue(names.dead, cb))
    return { requeued, remaining }
  } finally {
    closeChannel(channel)
  }
}

function closeChannel(channel: Channel): void {
  try {
    channel.close(() => undefined)
  } catch {
    // already closed
  }
}

/**
 * A passive declare of the exchange on a channel of its own: a round trip that
 * proves the broker answers, and changes nothing (a missing exchange fails it).
 */
export async function checkExchange(connection: Connection, exchange: string): Promise<void> {
  const channel = await call<Channel>((cb) => connection.createChannel(cb))
  channel.on('error', () => undefined)
  try {
    await call<unknown>((cb) => channel.checkExchange(exchange, cb))
  } finally {
    closeChannel(channel)
  }
}
