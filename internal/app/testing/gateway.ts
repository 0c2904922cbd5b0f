import { randomBytes } from 'node:crypto'
import type { FastifyServerOptions } from 'fastify'
import type { UserRole } from '../../auth/domain.js'
import { loadConfig, type Config } from '../../config/config.js'
import type { Bus } from '../../events/bus.js'
import { IN_PROCESS_WAKEUP } from '../../events/outbox-postgres.js'
import { createPool } from '../../platform/db/postgres.js'
import { isolate, type Isolation, type TestLike } from '../../platform/testing/harness.js'
import { memoryBus, rabbitBus } from '../bus.js'
import { serviceChecks } from '../checks.js'
import { rabbitStatusQueue } from '../status-updates.js'
import { buildGateway, type Gateway } from '../gateway.js'
import { memoryStores, redisStores } from '../stores.js'
import type { Timers } from '../../platform/timers.js'

export { bearer, isolate, type Isolation, type TestLike } from '../../platform/testing/harness.js'

export interface TestGateway extends Gateway, Isolation {
  config: Config
  instanceId: string
  bus: Bus
  /** Creates a user of the role and returns its id and a fresh access token. */
  user(role: UserRole, name?: string): Promise<{ id: string; email: string; token: string; password: string }>
  /** Creates a service client and returns a client-credentials access token. */
  serviceToken(): Promise<string>
}

export interface TestGatewayOptions {
  /** RabbitMQ (the test vhost, or `amqpUrl`) instead of the in-process bus. */
  bus?: boolean
  /** Use this Postgres/Redis isolation instead of a new one (a second gateway on the same data). */
  shared?: Isolation
  /** Broker URL override, e.g. a TCP proxy in front of RabbitMQ (the bus connects in the background). */
  amqpUrl?: string
  /** The gateway's logger options, e.g. `{ level: 'info', stream }` to read its log lines. */
  logger?: FastifyServerOptions['logger']
  /** The WebSocket limits' clock (token expiry, message rate), e.g. a hand-moved one. */
  wsClock?: Timers
  /** Status updates go to RabbitMQ at this URL (a vhost of the test's own: the queue names are fixed); none: they wait in PostgreSQL. */
  statusQueueUrl?: string
  /** Cache, rate limits and idempotency records in this process (embedded mode's stores) instead of Redis. */
  memoryStores?: boolean
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }

/**
 * A full gateway on isolated data, built as cmd/gateway builds it. Unless `env`
 * says otherwise it declares no worker queues (WORKER_QUEUES=none), so test events
 * do not pile up in durable queues nobody consumes.
 */
export async function testGateway(t: TestLike, env: Record<string, string> = {}, opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const iso = opts.shared ?? (await isolate(t))
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PASSWORD_SCRYPT_COST: '1024',
    JWT_SECRET: 'test-secret-0123456789abcdef',
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_TRACK_MAX: '100000',
    WS_MAX_CONNECTIONS_PER_IP: '10000',
    DATABASE_URL: iso.urls.databaseUrl,
    REDIS_URL: iso.urls.redisUrl,
    AMQP_URL: iso.urls.amqpUrl,
    WORKER_QUEUES: 'none',
    ...env,
  })
  const instanceId = `test-${iso.schema}-${randomBytes(3).toString('hex')}`
  const bus = opts.bus ? rabbitBus(config, { instanceId, hub: true, url: opts.amqpUrl, log: quiet }) : memoryBus(config, { log: quiet })
  if (opts.amqpUrl) void bus.start()
  else await bus.start()
  // The gateway's own pool, with its session settings (as cmd/gateway connects); the
  // test's direct queries on iso.pool stay ordinary writers.
  const pool = createPool({ url: iso.urls.databaseUrl, schema: `${iso.schema},public`, max: 10, settings: IN_PROCESS_WAKEUP })
  const statusQueue = opts.statusQueueUrl ? rabbitStatusQueue(config, { log: quiet, url: opts.statusQueueUrl }) : undefined
  void statusQueue?.start()
  const gateway = await buildGateway({ config, instanceId, pool, stores: opts.memoryStores ? memoryStores(config) : redisStores(config, iso.redis), bus, checks: serviceChecks({ pool, redis: iso.redis, bus: opts.bus ? bus : undefined }), logger: opts.logger, wsClock: opts.wsClock, statusQueue })
  await gateway.app.ready()
  t.teardown(async () => {
    await gateway.app.close()
    await statusQueue?.close()
    await bus.close()
    await pool.end()
  })
  let n = 0
  return {
    ...iso,
    ...gateway,
    config,
    instanceId,
    bus,
    async user(role, name = `${role} ${++n}`) {
      const email = `${role}-${randomBytes(4).toString('hex')}@example.com`
      const password = 'correct horse battery'
      const created = await gateway.auth.createUser({ email, password, name, role })
      const { accessToken } = await gateway.auth.login({ email, password })
      return { id: created.id, email, token: accessToken, password }
    },
    async serviceToken() {
      const { client, clientSecret } = await gateway.auth.createServiceClient('test integration')
      return (await gateway.auth.clientCredentials(client.clientId, clientSecret)).access_token
    },
  }
}
