import { requestIdMixin } from '../../internal/platform/request-context.js'
import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { workerChecks } from '../../internal/app/checks.js'
import { buildDispatch, dispatchBus, DISPATCH_DB_SETTINGS } from '../../internal/app/dispatch.js'
import { instanceIdOf } from '../../internal/app/instance.js'
import { redisPackageCache } from '../../internal/app/stores.js'
import { buildWorkerHealth } from '../../internal/app/worker-http.js'
import { ConfigError, healthPortOf, isEmbedded, loadConfig } from '../../internal/config/config.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { connectDependencies } from '../../internal/platform/startup.js'

// Wiring only: config -> clients -> migrations -> dispatch (its queue, sweep and
// relay) -> health port, and a graceful exit. Its own pool, Redis and broker
// connections: the gateway's assignment code runs here, in process.
async function main(): Promise<void> {
  if (isEmbedded()) {
    throw new ConfigError('none of DATABASE_URL, REDIS_URL, AMQP_URL is set: in the embedded mode dispatch runs inside the gateway (`npm start` with DISPATCH_AUTO_ASSIGN=true). Set the three URLs to run it against the services.')
  }
  const config = loadConfig()
  const log = pino({ level: config.LOG_LEVEL, base: { component: 'dispatch' }, mixin: requestIdMixin })
  const { pool, redis } = await connectDependencies(config, DISPATCH_DB_SETTINGS)
  await migrate(pool)
  const instanceId = instanceIdOf(config)
  const bus = dispatchBus(config, { instanceId, log: log.child({ component: 'bus' }) })
  const dispatch = await buildDispatch({ config, pool, bus, cache: redisPackageCache(config, redis), origin: instanceId, relay: true, log })
  const health = await buildWorkerHealth({ checks: workerChecks({ pool, redis, bus }), registries: [dispatch.metrics.registry] })
  const port = healthPortOf(config, 'dispatch')
  const address = await health.listen({ port, host: config.HOST }).catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`HEALTH_PORT ${port} on ${config.HOST}: ${err.code ?? err.message} (another process there? give each its own HEALTH_PORT, or 0 for any free port)`)
  })
  log.info({ address }, 'dispatch health and metrics')

  let started: Promise<void> | undefined
  // Waits for the broker (rascal keeps retrying); new packages wait in the queue meanwhile.
  bus.onConnected((downSince) => {
    if (downSince) return // rascal resumes the consumer itself after an outage
    started = dispatch.start().catch((err: unknown) => {
      log.error({ err }, 'dispatch could not start consuming')
      process.exit(1)
    })
  })
  void bus.start()

  closeWithGrace({ delay: 35_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down: finishing in-flight offers, leaving the rest queued')
    await health.close()
    await started
    await dispatch.stop()
    await bus.close()
    await pool.end()
    redis.disconnect()
    log.info({ counters: dispatch.consumer?.counters }, 'dispatch stopped')
  })
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || (err as { startup?: boolean }).startup) {
    console.error(`delivertrack dispatch: ${(err as Error).message}`)
  } else {
    console.error('delivertrack dispatch: failed to start', err)
  }
  process.exit(1)
})
