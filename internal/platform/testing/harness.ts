import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type pg from 'pg'
import { buildGateway, type Gateway } from '../../app/gateway.js'
import { IN_PROCESS_WAKEUP } from '../../realtime/outbox-relay.js'
import type { UserRole } from '../../auth/domain.js'
import { loadConfig, type Config } from '../../config/config.js'
import { RascalBus, type BusOptions } from '../bus/rascal.js'
import { createRedis } from '../cache/redis.js'
import { migrate } from '../db/migrate.js'
import { createPool } from '../db/postgres.js'
import { serviceUrls } from './services.js'

/** The slice of node-tap's Test a harness needs (keeps this file free of tap's types). */
export interface TestLike {
  teardown(fn: () => unknown): void
}

export interface Isolation {
  schema: string
  pool: pg.Pool
  redis: Redis
  keyPrefix: string
  urls: { databaseUrl: string; redisUrl: string; amqpUrl: string }
}

/**
 * A PostgreSQL schema and a Redis key prefix of the test file's own, migrated, and
 * removed again at teardown, so test files run in parallel on shared servers.
 */
export async function isolate(t: TestLike): Promise<Isolation> {
  const urls = await serviceUrls()
  const id = randomBytes(5).toString('hex')
  const schema = `test_${id}`
  const keyPrefix = `test:${id}:`
  const admin = createPool({ url: urls.databaseUrl, max: 1 })
  await admin.query(`CREATE SCHEMA ${schema}`)
  const pool = createPool({ url: urls.databaseUrl, schema: `${schema},public`, max: 10 })
  await migrate(pool)
  const redis = createRedis({ url: urls.redisUrl, keyPrefix })
  redis.on('error', () => undefined)
  await redis.connect()
  t.teardown(async () => {
    await pool.end()
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
    const cleaner = createRedis({ url: urls.redisUrl })
    await cleaner.connect()
    let cursor = '0'
    do {
      const [next, keys] = await cleaner.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500)
      if (keys.length) await cleaner.del(...keys)
      cursor = next
    } while (cursor !== '0')
    cleaner.disconnect()
    redis.disconnect()
  })
  return { schema, pool, redis, keyPrefix, urls }
}

export interface TestGateway extends Gateway, Isolation {
  config: Config
  /** Creates a user of the role and returns its id and a fresh access token. */
  user(role: UserRole, name?: string): Promise<{ id: string; email: string; token: string; password: string }>
  /** Creates a service client and returns a client-credentials access token. */
  serviceToken(): Promise<string>
  /** The gateway's message bus, when built with `{ bus: true }`. */
  bus?: RascalBus
}

export interface TestGatewayOptions {
  /** Connect to RabbitMQ (publish through the outbox, consume the hub queue). */
  bus?: boolean
  /** Use this Postgres/Redis isolation instead of a new one (a second gateway on the same data). */
  shared?: Isolation
  /** Broker URL override, e.g. a TCP proxy in front of RabbitMQ. */
  amqpUrl?: string
  /** More broker topology the gateway declares (e.g. the workers' queues, as cmd/gateway does). */
  topology?: BusOptions['topology']
}

/** A full gateway on isolated data, built exactly as cmd/gateway builds it. */
export async function testGateway(t: TestLike, env: Record<string, string> = {}, opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const iso = opts.shared ?? (await isolate(t))
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PASSWORD_SCRYPT_COST: '1024',
    JWT_SECRET: 'test-secret-0123456789abcdef',
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_TRACK_MAX: '100000',
    DATABASE_URL: iso.urls.databaseUrl,
    REDIS_URL: iso.urls.redisUrl,
    AMQP_URL: iso.urls.amqpUrl,
    ...env,
  })
  let bus: RascalBus | undefined
  if (opts.bus) {
    bus = new RascalBus({
      url: opts.amqpUrl ?? iso.urls.amqpUrl,
      instanceId: `test-${iso.schema}-${randomBytes(3).toString('hex')}`,
      hub: true,
      topology: opts.topology,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    })
    if (!opts.amqpUrl) await bus.start()
    else void bus.start()
  }
  // The gateway's own pool, with its session settings (as cmd/gateway connects); the
  // test's direct queries on iso.pool stay ordinary writers.
  const pool = createPool({ url: iso.urls.databaseUrl, schema: `${iso.schema},public`, max: 10, settings: IN_PROCESS_WAKEUP })
  const gateway = await buildGateway({ config, pool, redis: iso.redis, bus })
  await gateway.app.ready()
  t.teardown(async () => {
    await gateway.app.close()
    await bus?.close()
    await pool.end()
  })
  let n = 0
  return {
    ...iso,
    ...gateway,
    config,
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

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
