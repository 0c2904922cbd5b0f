import { requestIdMixin } from '../../internal/platform/request-context.js'
import closeWithGrace from 'close-with-grace'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { rabbitBus } from '../../internal/app/bus.js'
import { instanceIdOf } from '../../internal/app/instance.js'
import { buildWorker, type CarrierDeps } from '../../internal/app/worker.js'
import { workerChecks } from '../../internal/app/checks.js'
import { buildWorkerHealth } from '../../internal/app/worker-http.js'
import { OWN_QUEUE_ROLES, parseWorkerRoles, POLLER_ROLES } from '../../internal/app/worker-roles.js'
import { rabbitStatusQueue } from '../../internal/app/status-updates.js'
import { redisPackageCache } from '../../internal/app/stores.js'
import { ConfigError, healthPortOf, isEmbedded, loadConfig } from '../../internal/config/config.js'
import { WORKER_ROLES } from '../../internal/events/topology.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { connectPostgres, connectRedis } from '../../internal/platform/startup.js'

// Wiring only: config -> clients -> migrations -> worker roles -> consume, and a graceful exit.
// `npm run start:worker -- --only archive,notify,carriers` runs some roles (default: all;
// carriers when CARRIER_PROVIDER is set). Carriers polls PostgreSQL and needs no broker.
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } })
  if (isEmbedded()) {
    throw new ConfigError('none of DATABASE_URL, REDIS_URL, AMQP_URL is set: in the embedded mode the worker roles run inside the gateway (`npm start`). Set DATABASE_URL and AMQP_URL to run a worker against the services.')
  }
  const config = loadConfig()
  const { queues: roles, pollers, ownQueues } = parseWorkerRoles(values.only, config)
  if (roles.length + pollers.length + ownQueues.length === 0) throw new ConfigError(`--only needs at least one of ${[...WORKER_ROLES, ...POLLER_ROLES, ...OWN_QUEUE_ROLES].join(', ')}`)
  const log = pino({ level: config.LOG_LEVEL, base: { component: 'worker' }, mixin: requestIdMixin })
  const pool = await connectPostgres(config)
  await migrate(pool)
  const instanceId = instanceIdOf(config)
  // The carriers and status-updates roles drop the gateways' cached reads of what they changed (Redis, as they share it).
  const redis = pollers.includes('carriers') || ownQueues.length > 0 ? await connectRedis(config) : undefined
  const cache = redis ? redisPackageCache(config, redis) : undefined
  const carriers: CarrierDeps = { cache, origin: instanceId }
  const bus = rabbitBus(config, { instanceId, hub: false, running: roles, log: log.child({ component: 'bus' }) })
  const statusQueue = ownQueues.includes('status-updates') ? rabbitStatusQueue(config, { log: log.child({ component: 'status-updates' }) }) : undefined
  const worker = buildWorker({ config, pool, bus, roles, pollers, carriers, ownQueues, statusQueue, statusUpdates: { cache, origin: instanceId }, log })
  worker.startPollers()
  // Probes and Prometheus reach the worker here (HEALTH_PORT); a port in use stops the start, with its name.
  const health = await buildWorkerHealth({
    checks: workerChecks({ pool, redis, bus: roles.length > 0 ? bus : undefined, carriers: worker.carrierMetrics, archiveStore: worker.archiveStore, statusQueue }),
    registries: [worker.breakers.registry, ...(worker.carrierMetrics ? [worker.carrierMetrics.registry] : [])],
  })
  const port = healthPortOf(config, 'worker')
  const address = await health.listen({ port, host: config.HOST }).catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`HEALTH_PORT ${port} on ${config.HOST}: ${err.code ?? err.message} (another worker there? give each its own HEALTH_PORT, or 0 for any free port)`)
  })
  log.info({ address }, 'worker health and metrics')

  let started: Promise<void> | undefined
  // Waits for the broker (rascal keeps retrying); queued events wait for us meanwhile.
  bus.onConnected((downSince) => {
    if (downSince) return // rascal resumes the consumers itself after an outage
    started = (async () => {
      await statusQueue?.start()
      await worker.start()
    })().catch((err: unknown) => {
      log.error({ err }, 'worker could not start consuming')
      process.exit(1)
    })
  })
  void bus.start()

  closeWithGrace({ delay: 35_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down: finishing in-flight events, leaving the rest queued')
    await health.close()
    await started
    await worker.stop()
    await statusQueue?.close()
    await bus.close()
    await pool.end()
    redis?.disconnect()
    log.info({ counters: Object.fromEntries(worker.consumers.map((c) => [c.role, c.counters])) }, 'worker stopped')
  })
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || (err as { startup?: boolean }).startup || /unknown worker role/.test((err as Error).message)) {
    console.error(`delivertrack worker: ${(err as Error).message}`)
  } else {
    console.error('delivertrack worker: failed to start', err)
  }
  process.exit(1)
})
