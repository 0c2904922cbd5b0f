import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../../internal/config/config.js'
import { parseDelays, parseRoles, workerQueueNames } from '../../internal/platform/bus/worker-topology.js'
import { requeueDeadLetters } from '../../internal/worker/dead-letters.js'

const USAGE = 'usage: npm run dlq:requeue -- --queue archive|notify|webhooks [--limit N]'

// Puts a worker role's dead letters back on its work queue (AMQP_URL as for the worker).
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { queue: { type: 'string' }, limit: { type: 'string' } } })
  const role = parseRoles(values.queue ?? '')[0]
  if (!role || values.queue?.includes(',')) throw new ConfigError(USAGE)
  const limit = values.limit === undefined ? undefined : Number.parseInt(values.limit, 10)
  if (limit !== undefined && !(limit > 0)) throw new ConfigError(`--limit must be a positive integer\n${USAGE}`)
  const config = loadConfig()
  const names = workerQueueNames(role, parseDelays(config.WORKER_RETRY_DELAYS_MS))
  const { requeued, remaining } = await requeueDeadLetters(config.AMQP_URL, names, limit)
  console.log(`requeued ${requeued} dead letters from ${names.dead} to ${names.work}; ${remaining} left`)
}

main().catch((err: unknown) => {
  console.error(`dlq:requeue: ${err instanceof ConfigError ? err.message : (err as Error).message}`)
  process.exit(1)
})
