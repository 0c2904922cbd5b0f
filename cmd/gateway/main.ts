import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { buildGateway, checkGatewayConfig } from '../../internal/app/gateway.js'
import { embeddedInfrastructure, servicesInfrastructure } from '../../internal/app/infrastructure.js'
import { instanceIdOf } from '../../internal/app/instance.js'
import { carrierCheck } from '../../internal/app/checks.js'
import { buildDispatch, dispatchMetrics, type Dispatch } from '../../internal/app/dispatch.js'
import { buildWorker, carrierMetrics, type CarrierDeps, type Worker } from '../../internal/app/worker.js'
import { ConfigError, loadConfig, runMode } from '../../internal/config/config.js'
import { Breakers, breakerSettingsOf } from '../../internal/platform/resilience.js'

// Wiring only: config -> infrastructure (the services, or everything in process) ->
// gateway (and, embedded, the worker roles) -> listen, and a graceful exit.
async function main(): Promise<void> {
  const mode = runMode()
  const config = loadConfig()
  checkGatewayConfig(config)
  const log = pino({ level: config.LOG_LEVEL })
  const instanceId = instanceIdOf(config)
  const infra = mode === 'embedded' ? await embeddedInfrastructure(config, log.child({ component: 'embedded' })) : await servicesInfrastructure(config, instanceId, log.child({ component: 'bus' }))
  // Embedded, the carriers role runs here too when CARRIER_PROVIDER is set, on this process's cache and event path;
  // its figures and breaker join the gateway's /metrics and /health/ready.
  const pollers = infra.inProcessWorker && config.CARRIER_PROVIDER ? (['carriers'] as const) : []
  const metrics = pollers.length > 0 ? carrierMetrics(config, infra.pool, log.child({ component: 'carriers' })) : undefined
  const checks = metrics ? { ...infra.checks, carrier: carrierCheck(metrics) } : infra.checks
  // One set of breakers per process: the gateway's proofs bucket and, embedded, the worker roles' calls.
  const breakers = new Breakers(breakerSettingsOf(config))
  // Embedded, dispatch runs here like the worker roles, on this process's event path; its figures join /metrics.
  const dispatchFigures = infra.inProcessWorker && config.DISPATCH_AUTO_ASSIGN ? dispatchMetrics() : undefined
  const registries = [...(metrics ? [metrics.registry] : []), ...(dispatchFigures ? [dispatchFigures.registry] : [])]
  const { app, auth, packages } = await buildGateway({ config, instanceId, ...infra, checks, registries, breakers })
  let worker: Worker | undefined
  if (infra.inProcessWorker && infra.inProcessWorker.roles.length + pollers.length > 0) {
    const { roles, store } = infra.inProcessWorker
    const carriers: CarrierDeps = { cache: infra.stores.cache, committed: (written) => void packages.committed(written), origin: instanceId, metrics }
    worker = buildWorker({ config, pool: infra.pool, bus: infra.bus, roles, store, pollers, carriers, breakers, log: log.child({ component: 'worker' }) })
    await worker.start()
    worker.startPollers()
  }
  let dispatch: Dispatch | undefined
  if (dispatchFigures) {
    dispatch = await buildDispatch({ config, pool: infra.pool, bus: infra.bus, committed: (written) => void packages.committed(written), origin: instanceId, metrics: dispatchFigures, log: log.child({ component: 'dispatch' }) })
    await dispatch.start()
  }
  if (mode === 'embedded') app.log.info({ dataDir: config.DATA_DIR, workerRoles: [...(infra.inProcessWorker?.roles ?? []), ...pollers], dispatch: dispatch !== undefined }, 'embedded mode: none of DATABASE_URL, REDIS_URL, AMQP_URL is set, so everything runs in this process')
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    const outcome = await auth.ensureAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD)
    app.log.info({ email: config.ADMIN_EMAIL, outcome }, 'first admin account')
  } else {
    app.log.warn('ADMIN_EMAIL / ADMIN_PASSWORD not set: no admin account is created at start-up')
  }

  closeWithGrace({ delay: 30_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    await app.close()
    await worker?.stop()
    await dispatch?.stop()
    await infra.close()
  })
  await app.listen({ port: config.PORT, host: config.HOST })
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || (err as { startup?: boolean }).startup) {
    console.error(`delivertrack: ${(err as Error).message}`)
  } else {
    console.error('delivertrack: failed to start', err)
  }
  process.exit(1)
})
