import { join, resolve } from 'node:path'
import type pg from 'pg'
import { FileObjectStore } from '../archive/fs.js'
import type { ObjectStore } from '../archive/ports.js'
import type { Config } from '../config/config.js'
import type { Bus } from '../events/bus.js'
import { IN_PROCESS_WAKEUP } from '../events/outbox-postgres.js'
import type { RoleLogger } from '../events/roles.js'
import { parseRoles, type WorkerRole } from '../events/topology.js'
import { migrate } from '../platform/db/migrate.js'
import { openEmbeddedDatabase } from '../platform/db/pglite.js'
import type { DependencyCheck } from '../platform/health/http.js'
import { connectMongo, type Mongo } from '../platform/mongo/client.js'
import { connectDependencies } from '../platform/startup.js'
import { memoryBus, rabbitBus } from './bus.js'
import { serviceChecks } from './checks.js'
import type { GatewayStores } from './gateway.js'
import { memoryStores, redisStores } from './stores.js'

import type { StatusUpdateQueue } from '../statusupdate/ports.js'
import { MemoryStatusQueue } from '../statusupdate/queue-memory.js'
import { rabbitStatusQueue } from './status-updates.js'

/** What a gateway runs on: the database, the bus, the stores, and how to tell they are healthy. */
export interface Infrastructure {
  mode: 'services' | 'embedded'
  pool: pg.Pool
  bus: Bus
  stores: GatewayStores
  checks: Record<string, DependencyCheck>
  /** The outbox may LISTEN on a connection of its own (not on PGlite's single one). */
  outboxListen: boolean
  mongo?: Mongo
  /** Where posted status updates go: RabbitMQ, or (embedded) applied in this process. */
  statusQueue: StatusUpdateQueue
  /** Worker roles that run inside the gateway's process (embedded mode), with their archive store. */
  inProcessWorker?: { roles: WorkerRole[]; store: ObjectStore }
  close(): Promise<void>
}

/**
 * PostgreSQL, Redis and RabbitMQ (and MongoDB when MONGO_URL is set), migrated.
 * The bus connects in the background: the gateway serves while RabbitMQ is away.
 */
export async function servicesInfrastructure(config: Config, instanceId: string, log: RoleLogger): Promise<Infrastructure> {
  // The gateway kicks its outbox relay after every commit, so its sessions skip NOTIFY.
  const { pool, redis } = await connectDependencies(config, IN_PROCESS_WAKEUP)
  await migrate(pool)
  const bus = rabbitBus(config, { instanceId, hub: true, log })
  void bus.start()
  const statusQueue = rabbitStatusQueue(config, { log })
  void statusQueue.start()
  // MONGO_URL moves location history to MongoDB; it must answer at start-up like PostgreSQL.
  const mongo = config.MONGO_URL ? await connectMongo(config.MONGO_URL) : undefined
  return {
    mode: 'services',
    pool,
    bus,
    stores: redisStores(config, redis),
    checks: serviceChecks({ pool, redis, bus, mongo }),
    outboxListen: true,
    mongo,
    statusQueue,
    async close() {
      await statusQueue.close()
      await bus.close()
      await pool.end()
      await mongo?.client.close()
      redis.disconnect()
    },
  }
}

/**
 * Nothing installed: PostgreSQL in process (PGlite, DATA_DIR/postgres), the cache,
 * rate limits and idempotency records in memory, the in-process bus, and the
 * worker roles of WORKER_QUEUES in this process (the archive as files under
 * DATA_DIR/archive), and dispatch's queue with DISPATCH_AUTO_ASSIGN.
 */
export async function embeddedInfrastructure(config: Config, log: RoleLogger): Promise<Infrastructure> {
  const dataDir = resolve(config.DATA_DIR)
  const db = await openEmbeddedDatabase({ dataDir: join(dataDir, 'postgres'), settings: IN_PROCESS_WAKEUP, log })
  try {
    await migrate(db.pool)
  } catch (err) {
    await db.close()
    throw err
  }
  const roles = parseRoles(config.WORKER_QUEUES)
  // Dispatch runs in this process too when it has work (DISPATCH_AUTO_ASSIGN).
  const bus = memoryBus(config, { running: roles, log })
  await bus.start()
  const embedded = (implementation: string, check: () => Promise<unknown>): DependencyCheck => ({ critical: true, implementation, check })
  return {
    mode: 'embedded',
    pool: db.pool,
    bus,
    stores: memoryStores(config),
    checks: {
      postgres: embedded(`PGlite in process, ${join(dataDir, 'postgres')}`, () => db.pool.query('SELECT 1')),
      cache: embedded('in memory', async () => undefined),
      bus: embedded('in process', async () => {
        if (!bus.connected) throw new Error('stopped')
      }),
    },
    outboxListen: false,
    statusQueue: new MemoryStatusQueue(log),
    inProcessWorker: { roles, store: new FileObjectStore(join(dataDir, 'archive')) },
    async close() {
      await bus.close()
      await db.close()
    },
  }
}
