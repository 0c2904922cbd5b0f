import type { Redis } from 'ioredis'
import { MemoryLoginAttemptStore } from '../auth/login-attempts-memory.js'
import { RedisLoginAttemptStore } from '../auth/login-attempts-redis.js'
import type { Config } from '../config/config.js'
import { MemoryPackageCache } from '../package/cache-memory.js'
import { RedisPackageCache } from '../package/cache-redis.js'
import { MemoryIdempotencyStore } from '../platform/http/idempotency-store-memory.js'
import { RedisIdempotencyStore } from '../platform/http/idempotency-store-redis.js'
import { memoryRateLimitStore } from '../platform/http/rate-limit-store-memory.js'
import { leasedRedisStore } from '../platform/http/rate-limit-store-redis.js'
import type { GatewayStores } from './gateway.js'

/** The package cache the gateways share (workers that change packages drop entries from it). */
export const redisPackageCache = (config: Config, redis: Redis) => new RedisPackageCache(redis, config.CACHE_TTL_S)

/** Cache, rate limits and idempotency records in Redis, shared by every gateway behind it. */
export function redisStores(config: Config, redis: Redis): GatewayStores {
  return {
    cache: redisPackageCache(config, redis),
    rateLimit: leasedRedisStore(redis),
    idempotency: new RedisIdempotencyStore(redis),
    loginAttempts: new RedisLoginAttemptStore(redis),
  }
}

/** The same in this process's memory, for a gateway that runs alone (embedded mode). */
export function memoryStores(config: Config): GatewayStores {
  return {
    cache: new MemoryPackageCache({ ttlSeconds: config.CACHE_TTL_S }),
    rateLimit: memoryRateLimitStore(),
    idempotency: new MemoryIdempotencyStore(),
    loginAttempts: new MemoryLoginAttemptStore(),
  }
}
