import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { rabbitBus } from '../../internal/app/bus.js'
import { serviceChecks } from '../../internal/app/checks.js'
import { buildGateway } from '../../internal/app/gateway.js'
import { instanceIdOf } from '../../internal/app/instance.js'
import { ConfigError, loadConfig } from '../../internal/config/config.js'
import { IN_PROCESS_WAKEUP } from '../../internal/events/outbox-postgres.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { connectMongo } from '../../internal/platform/mongo/client.js'
import { connectDependencies } from '../../internal/platform/startup.js'

// Wiring only: config -> clients -> migrations -> gateway -> listen, and a graceful exit.
async function main(): Promise<void> {
  const config = loadConfig()
  // The gateway kicks its outbox relay after every commit, so its sessions skip NOTIFY.
  const { pool, redis } = await connectDependencies(config, IN_PROCESS_WAKEUP)
  await migrate(pool)
  const instanceId = instanceIdOf(config)
  // The gateway keeps serving while RabbitMQ is away; the outbox holds events until it is back.
  const bus = rabbitBus(config, { instanceId, hub: true, log: pino({ level: config.LOG_LEVEL }).child({ component: 'bus' }) })
  void bus.start()
  // MONGO_URL moves location history to MongoDB; it must answer at start-up like PostgreSQL.
  const mongo = config.MONGO_URL ? await connectMongo(config.MONGO_URL) : undefined
  const { app, auth } = await buildGateway({ config, instanceId, pool, redis, bus, mongo, checks: serviceChecks({ pool, redis, bus, mongo }) })
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    const outcome = await auth.ensureAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD)
    app.log.info({ email: config.ADMIN_EMAIL, outcome }, 'first admin account')
  } else {
    app.log.warn('ADMIN_EMAIL / ADMIN_PASSWORD not set: no admin account is created at start-up')
  }

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    await app.close()
    await bus.close()
    await pool.end()
    await mongo?.client.close()
    redis.disconnect()
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
