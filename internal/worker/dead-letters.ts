import amqplib from 'amqplib'
import type { WorkerQueueNames } from '../platform/bus/worker-topology.js'

export interface RequeueResult {
  requeued: number
  /** Dead letters left (arrived during the run, or over the limit). */
  remaining: number
}

/**
 * Moves a role's dead letters back to its work queue with a fresh retry budget
 * (rascal's recovery counters and x-death removed). Each message is acknowledged
 * on the dead-letter queue only after the broker confirmed its copy, so a crash
 * duplicates at worst (handlers are idempotent) and never loses. Moves at most the
 * messages present at the start, so letters that die again are not looped.
 */
export async function requeueDeadLetters(url: string, names: WorkerQueueNames, limit = Number.POSITIVE_INFINITY): Promise<RequeueResult> {
  const connection = await amqplib.connect(url)
  try {
    const channel = await connection.createConfirmChannel()
    const { messageCount } = await channel.checkQueue(names.dead)
    const target = Math.min(messageCount, limit)
    let requeued = 0
    while (requeued < target) {
      const batch: amqplib.GetMessage[] = []
      while (batch.length < 500 && requeued + batch.length < target) {
        const message = await channel.get(names.dead, { noAck: false })
        if (!message) break
        batch.push(message)
        const headers = { ...message.properties.headers }
        delete headers['x-death']
        const rascal = headers.rascal as { recovery?: unknown } | undefined
        if (rascal) headers.rascal = { ...rascal, recovery: undefined }
        channel.publish('', names.work, message.content, { ...message.properties, headers, persistent: true })
      }
      if (batch.length === 0) break
      await channel.waitForConfirms()
      for (const m of batch) channel.ack(m)
      requeued += batch.length
    }
    const { messageCount: remaining } = await channel.checkQueue(names.dead)
    await channel.close()
    return { requeued, remaining }
  } finally {
    await connection.close().catch(() => undefined)
  }
}
