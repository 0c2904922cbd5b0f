import type { ObjectStore } from '../archive/ports.js'
import type { Redis } from 'ioredis'
import type pg from 'pg'
import type { CarrierMetrics } from '../carrier/metrics.js'
import type { BreakerState } from '../carrier/ports.js'
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

/**
 * The carriers role's provider: an open circuit breaker makes the process
 * degraded, never down, as customers still read from the database.
 */
export function carrierCheck(metrics: CarrierMetrics): DependencyCheck {
  const open = () => Object.entries(metrics.breakerStates()).filter(([, s]) => s === 'open').map(([name]) => name)
  const state = (): BreakerState => {
    const states = Object.values(metrics.breakerStates())
    return states.includes('open') ? 'open' : states.includes('half-open') ? 'half-open' : 'closed'
  }
  return {
    critical: false,
    state,
    check: async () => {
      const names = open()
      if (names.length > 0) throw new Error(`circuit breaker open for ${names.join(', ')}: provider calls are refused until a trial call succeeds`)
    },
  }
}

/** The worker's readiness: PostgreSQL (down without it), the broker when queue roles run, Redis and the provider when carriers runs. */
export function workerChecks(parts: { pool: pg.Pool; redis?: Redis; bus?: Bus; carriers?: CarrierMetrics; archiveStore?: ObjectStore; statusQueue?: { readonly connected: boolean } }): Record<string, DependencyCheck> {
  const checks: Record<string, DependencyCheck> = { postgres: { critical: true, check: () => parts.pool.query('SELECT 1') } }
  const redis = parts.redis
  if (redis) checks.redis = { critical: false, check: () => redis.ping() }
  if (parts.bus) checks.rabbitmq = busCheck(parts.bus)
  if (parts.carriers) checks.carrier = carrierCheck(parts.carriers)
  // The status-updates role's own broker connection (partition queues), apart from the event bus.
  const queue = parts.statusQueue
  if (queue) checks.statusQueue = { critical: true, check: async () => {
    if (!queue.connected) throw new Error('status-updates queue: not connected to the broker')
  } }
  // The archive's bucket: a look-up of a key that is never written. Not critical, since
  // events wait in the archive queue while the store is away; the status says degraded.
  const store = parts.archiveStore
  if (store) checks.s3 = { critical: false, check: () => store.exists(READINESS_KEY) }
  return checks
}

/** Looked up, never written, by the archive's readiness check. */
const READINESS_KEY = 'delivertrack-readiness-probe'
