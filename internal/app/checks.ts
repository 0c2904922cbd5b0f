import type { Redis } from 'ioredis'
import type pg from 'pg'
import type { Bus } from '../events/bus.js'
import type { DependencyCheck } from '../platform/health/http.js'
import type { Mongo } from '../platform/mongo/client.js'

// A round trip to the broker, not just the connection flag: a broker that accepts
// TCP but answers nothing keeps the connection "up" until its heartbeat lapses.
const busCheck = (bus: Bus): DependencyCheck => ({
  critical: false,
  check: () => bus.probe(),
})

/**
 * Readiness with the real services: without PostgreSQL nothing works (down);
 * without Redis or RabbitMQ the gateway still serves (degraded), see README.
 */
export function serviceChecks(parts: { pool: pg.Pool; redis: Redis; bus?: Bus; mongo?: Mongo }): Record<string, DependencyCheck> {
  const checks: Record<string, DependencyCheck> = {
    postgres: { critical: true, check: () => parts.pool.query('SELECT 1') },
    redis: { critical: false, check: () => parts.redis.ping() },
  }
  if (parts.bus) checks.rabbitmq = busCheck(parts.bus)
  const mongo = parts.mongo
  if (mongo) checks.mongo = { critical: false, check: () => mongo.db.command({ ping: 1 }) }
  return checks
}
