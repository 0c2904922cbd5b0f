import { connect } from 'node:net'
import { ensureTestVhost, TEST_VHOST } from './broker-vhost.js'

export interface ServiceUrls {
  databaseUrl: string
  redisUrl: string
  amqpUrl: string
}

const DEFAULTS: ServiceUrls = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: 'redis://127.0.0.1:6379',
  // A vhost of the suite's own (broker-vhost.ts), not the `/` of `make run`.
  amqpUrl: `amqp://guest:guest@127.0.0.1:5672/${TEST_VHOST}`,
}

let resolved: Promise<ServiceUrls> | undefined

/**
 * Where the tests' PostgreSQL, Redis and RabbitMQ are: the environment's URLs
 * (defaults 127.0.0.1). A service that does not answer is started with
 * testcontainers when a Docker engine is available; otherwise the error says how
 * to start it.
 */
export function serviceUrls(): Promise<ServiceUrls> {
  resolved ??= resolve()
  return resolved
}

async function resolve(): Promise<ServiceUrls> {
  const urls: ServiceUrls = {
    databaseUrl: process.env.DATABASE_URL || DEFAULTS.databaseUrl,
    redisUrl: process.env.REDIS_URL || DEFAULTS.redisUrl,
    amqpUrl: process.env.AMQP_URL || DEFAULTS.amqpUrl,
  }
  const [pg, redis, amqp] = await Promise.all([reachable(urls.databaseUrl, 5432), reachable(urls.redisUrl, 6379), reachable(urls.amqpUrl, 5672)])
  if (amqp && !process.env.AMQP_URL) await ensureTestVhost(urls.amqpUrl)
  if (pg && redis && amqp) return urls
  const missing = [!pg && 'PostgreSQL', !redis && 'Redis', !amqp && 'RabbitMQ'].filter(Boolean).join(', ')
  let tc: typeof import('testcontainers')
  try {
    tc = await import('testcontainers')
  } catch (err) {
    throw new Error(`${missing} not reachable, and testcontainers cannot be loaded (${(err as Error).message}): start the local services (see README, "Running the tests")`, { cause: err })
  }
  if (!(await tc.getContainerRuntimeClient().then(Boolean, () => false))) {
    throw new Error(`${missing} not reachable and no Docker engine for testcontainers: start the local services (see README, "Running the tests")`)
  }
  if (!pg) {
    const c = await new tc.GenericContainer('postgres:16-alpine').withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' }).withExposedPorts(5432)
      .withWaitStrategy(tc.Wait.forLogMessage(/ready to accept connections/, 2)).start()
    urls.databaseUrl = `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`
  }
  if (!redis) {
    const c = await new tc.GenericContainer('redis:7-alpine').withExposedPorts(6379).start()
    urls.redisUrl = `redis://${c.getHost()}:${c.getMappedPort(6379)}`
  }
  if (!amqp) {
    const c = await new tc.GenericContainer('rabbitmq:3.13-alpine').withExposedPorts(5672)
      .withWaitStrategy(tc.Wait.forLogMessage(/Server startup complete/)).start()
    // A broker of the run's own: its `/` is nobody else's.
    urls.amqpUrl = `amqp://guest:guest@${c.getHost()}:${c.getMappedPort(5672)}`
  }
  return urls
}

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url)
  return new Promise((done) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || defaultPort), timeout: 1_000 })
    socket.once('connect', () => {
      socket.destroy()
      done(true)
    })
    socket.once('error', () => done(false))
    socket.once('timeout', () => {
      socket.destroy()
      done(false)
    })
  })
}
