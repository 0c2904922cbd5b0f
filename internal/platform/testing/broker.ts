import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import amqplib from 'amqplib'
import { serviceUrls } from './services.js'
import type { TestLike } from './harness.js'

const run = promisify(execFile)

/**
 * A RabbitMQ vhost of the caller's own (made with rabbitmqctl, as root on this
 * machine), deleted at teardown: the fixed exchange and queue names of the real
 * topology can then be used by test files running in parallel. Call it once per
 * file with tap's root test; `purgeQueues` keeps tests of one file apart.
 */
export async function testVhost(t: TestLike): Promise<string> {
  const { amqpUrl } = await serviceUrls()
  const name = `test_${randomBytes(5).toString('hex')}`
  const user = decodeURIComponent(new URL(amqpUrl).username || 'guest')
  try {
    await run('rabbitmqctl', ['-q', 'add_vhost', name])
    await run('rabbitmqctl', ['-q', 'set_permissions', '-p', name, user, '.*', '.*', '.*'])
  } catch (err) {
    throw new Error(`cannot create a RabbitMQ vhost with rabbitmqctl (the worker tests need one per file): ${(err as Error).message}`, { cause: err })
  }
  t.teardown(async () => {
    await run('rabbitmqctl', ['-q', 'delete_vhost', name]).catch(() => undefined)
  })
  const url = new URL(amqpUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** Deletes the named queues at teardown (so the next test of the file starts empty). */
export function deleteQueuesAfter(t: TestLike, amqpUrl: string, names: string[]): void {
  t.teardown(async () => {
    const connection = await amqplib.connect(amqpUrl)
    for (const name of names) {
      const channel = await connection.createChannel()
      channel.on('error', () => undefined)
      await channel.deleteQueue(name).catch(() => undefined)
      await channel.close().catch(() => undefined)
    }
    await connection.close()
  })
}

/** Ready messages in each queue (missing queues count 0). */
export function queueDepths(amqpUrl: string, names: string[]): Promise<Record<string, number>> {
  return checkEach(amqpUrl, names, (q) => q.messageCount, 0)
}

/** Whether each named queue exists (a passive check, which never creates one). */
export function queuesExist(amqpUrl: string, names: string[]): Promise<Record<string, boolean>> {
  return checkEach(amqpUrl, names, () => true, false)
}

/** A passive check of each queue, read by `found`; `missing` for a queue that does not exist. */
async function checkEach<T>(amqpUrl: string, names: string[], found: (q: { messageCount: number }) => T, missing: T): Promise<Record<string, T>> {
  const connection = await amqplib.connect(amqpUrl)
  const out: Record<string, T> = {}
  try {
    for (const name of names) {
      // A failed check closes its channel, so each queue gets its own.
      const channel = await connection.createChannel()
      channel.on('error', () => undefined)
      out[name] = await channel.checkQueue(name).then(found, () => missing)
      await channel.close().catch(() => undefined)
    }
  } finally {
    await connection.close()
  }
  return out
}

/** Publishes raw content to the events exchange, as the outbox relay would (confirmed). */
export async function publishRaw(amqpUrl: string, routingKey: string, content: Buffer | object, messageId?: string): Promise<void> {
  const connection = await amqplib.connect(amqpUrl)
  try {
    const channel = await connection.createConfirmChannel()
    const body = Buffer.isBuffer(content) ? content : Buffer.from(JSON.stringify(content))
    channel.publish('delivertrack.events', routingKey, body, { persistent: true, contentType: 'application/json', messageId })
    await channel.waitForConfirms()
  } finally {
    await connection.close()
  }
}

/** Polls until `check` returns a truthy value (or throws after the timeout with the last value). */
export async function eventually<T>(check: () => Promise<T> | T, what: string, timeoutMs = 30_000, everyMs = 100): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  for (;;) {
    last = await check()
    if (last) return last as Exclude<T, false | null | undefined | 0 | ''>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
