import { randomBytes } from 'node:crypto'
import pino from 'pino'
import type { ObjectStore } from '../../archive/ports.js'
import { loadConfig, type Config } from '../../config/config.js'
import type { Notifier } from '../../notify/ports.js'
import type { Bus } from '../../events/bus.js'
import { parseDelays, roleQueues, WORKER_ROLES, type WorkerRole } from '../../events/topology.js'
import type { Isolation, TestLike } from '../../platform/testing/harness.js'
import { rabbitBus } from '../bus.js'
import { buildWorker, type Worker } from '../worker.js'
import { testGateway, type TestGateway } from './gateway.js'
import { deleteQueuesAfter, eventually } from '../../platform/testing/broker.js'

/** Short delays and a small retry budget, so retries and dead letters happen within a test. */
export const WORKER_TEST_ENV: Record<string, string> = {
  WORKER_RETRY_DELAYS_MS: '100,200,400',
  WORKER_MAX_ATTEMPTS: '4',
  ARCHIVE_BATCH_SIZE: '25',
  ARCHIVE_BATCH_AGE_MS: '200',
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_TIMEOUT_MS: '2000',
  // Workers of parallel tests would all want 3001.
  HEALTH_PORT: '0',
}

export const silentLog = pino({ level: 'silent' })

// The SDK's notice that its 2027 releases need Node 22 would repeat in every test's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

/** Every queue name of every role under the test delays (for cleanup and depth checks). */
export function allQueueNames(env: Record<string, string> = {}): string[] {
  const delays = parseDelays(env.WORKER_RETRY_DELAYS_MS ?? WORKER_TEST_ENV.WORKER_RETRY_DELAYS_MS!)
  return WORKER_ROLES.flatMap((r) => {
    const n = roleQueues(r, delays)
    return [n.work, ...n.delays, n.dead]
  })
}

/**
 * A gateway on its own data whose bus is the test's vhost and which declares the
 * workers' queues like cmd/gateway; connected when this resolves. The queues are
 * deleted at teardown.
 */
export async function workerGateway(t: TestLike, amqpUrl: string, env: Record<string, string> = {}): Promise<TestGateway> {
  const merged = { WORKER_QUEUES: WORKER_ROLES.join(','), ...WORKER_TEST_ENV, ...env }
  deleteQueuesAfter(t, amqpUrl, allQueueNames(merged))
  const gw = await testGateway(t, merged, { bus: true, amqpUrl })
  await eventually(() => gw.bus?.connected, 'the gateway to connect to the broker')
  return gw
}

export interface TestWorker {
  worker: Worker
  bus: Bus
  config: Config
  /** Graceful stop (as on SIGTERM). */
  stop(): Promise<void>
}

export interface TestWorkerOptions {
  iso: Isolation
  amqpUrl: string
  roles: WorkerRole[]
  env?: Record<string, string>
  store?: ObjectStore
  notifier?: Notifier
  /** The worker's and its bus's logger (default: silent). */
  log?: pino.Logger
}

/** A worker built as cmd/worker builds it, in-process, on the test's data and vhost. */
export async function startWorker(t: TestLike, opts: TestWorkerOptions): Promise<TestWorker> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: opts.iso.urls.databaseUrl,
    AMQP_URL: opts.amqpUrl,
    ...WORKER_TEST_ENV,
    ...opts.env,
  })
  const bus = rabbitBus(config, { instanceId: `worker-${randomBytes(3).toString('hex')}`, hub: false, running: opts.roles, log: opts.log ?? silentLog })
  await bus.start()
  const worker = buildWorker({
    config,
    pool: opts.iso.pool,
    bus,
    roles: opts.roles,
    log: opts.log ?? silentLog,
    ...(opts.store ? { store: opts.store } : {}),
    ...('notifier' in opts ? { notifier: opts.notifier } : {}),
  })
  await worker.start()
  let stopped: Promise<void> | undefined
  const stop = () =>
    (stopped ??= (async () => {
      await worker.stop()
      await bus.close()
    })())
  t.teardown(stop)
  return { worker, bus, config, stop }
}
