import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type pg from 'pg'
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
    await admin.query(`DROP SCHEMA IF EXISTS ${schema}_dispatch, ${schema} CASCADE`)
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

/**
 * An empty, unmigrated schema of the test's own (for migration and pool tests), and
 * pools on it; the pools end and the schema (with dispatch's companion) goes at teardown.
 */
export async function emptySchema(t: TestLike, prefix: string): Promise<{ schema: string; databaseUrl: string; pool(max?: number): pg.Pool }> {
  const { databaseUrl } = await serviceUrls()
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`
  const admin = createPool({ url: databaseUrl, max: 1 })
  await admin.query(`CREATE SCHEMA ${schema}`)
  const pools: pg.Pool[] = []
  t.teardown(async () => {
    await Promise.all(pools.map((p) => p.end()))
    await admin.query(`DROP SCHEMA IF EXISTS ${schema}_dispatch, ${schema} CASCADE`)
    await admin.end()
  })
  return {
    schema,
    databaseUrl,
    pool: (max = 2) => {
      const p = createPool({ url: databaseUrl, schema, max })
      pools.push(p)
      return p
    },
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
