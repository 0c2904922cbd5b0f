import { parseArgs } from 'node:util'
import { rabbitBus } from '../../internal/app/bus.js'
import { instanceIdOf } from '../../internal/app/instance.js'
import { ConfigError, loadConfig } from '../../internal/config/config.js'
import { parseRoles, roleQueues, parseDelays } from '../../internal/events/topology.js'

const USAGE = 'usage: npm run dlq:requeue -- --queue archive|notify|webhooks [--limit N]'
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }

// Puts a worker role's dead letters back on its work queue (AMQP_URL as for the worker).
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { queue: { type: 'string' }, limit: { type: 'string' } } })
  const role = parseRoles(values.queue ?? '')[0]
  if (!role || values.queue?.includes(',')) throw new ConfigError(USAGE)
  const limit = values.limit === undefined ? undefined : Number.parseInt(values.limit, 10)
  if (limit !== undefined && !(limit > 0)) throw new ConfigError(`--limit must be a positive integer\n${USAGE}`)
  const config = loadConfig()
  const bus = rabbitBus(config, { instanceId: instanceIdOf(config), hub: false, running: [role], log: quiet })
  try {
    let timer: NodeJS.Timeout | undefined
    const unreachable = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConfigError(`RabbitMQ did not answer at AMQP_URL within 10 s`)), 10_000)
    })
    await Promise.race([bus.start(), unreachable]).finally(() => clearTimeout(timer))
    const names = roleQueues(role, parseDelays(config.WORKER_RETRY_DELAYS_MS))
    const { requeued, remaining } = await bus.requeueDeadLetters(role, limit)
    console.log(`requeued ${requeued} dead letters from ${names.dead} to ${names.work}; ${remaining} left`)
  } finally {
    await bus.close()
  }
}

main().catch((err: unknown) => {
  console.error(`dlq:requeue: ${(err as Error).message}`)
  process.exit(1)
})
