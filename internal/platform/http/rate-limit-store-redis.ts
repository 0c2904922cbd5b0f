import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { performance } from 'node:perf_hooks'
import { childPrefix, refuseUnsupported, type RateLimitStore, type RateLimitStoreFactory } from './rate-limit-store.js'

type Callback = Parameters<RateLimitStore['incr']>[1]

/**
 * A block of a key's count, taken from Redis: request numbers `next`..`last` of the
 * window ending at `expiresAt` (monotonic clock, `performance.now()`).
 */
interface Lease {
  next: number
  last: number
  expiresAt: number
  /** Requests to number with the block being fetched (never empty while one is). */
  waiting: Callback[]
  size: number
  takenAt: number
}

// KEYS: the counter. ARGV: how many to take, window (ms). Returns the count after taking and the window's remaining ms.
const TAKE = `local c = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if c == tonumber(ARGV[1]) or ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) ttl = tonumber(ARGV[2]) end
return {c, ttl}`

/** A hot caller's lease doubles up to this share of its limit (and at most MAX_LEASE). */
const LEASE_SHARE = 1 / 20
const MAX_LEASE = 100
/** A lease used up sooner than this after it was taken counts as hot. */
const HOT_MS = 1_000

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rateLimitTake(key: string, count: number, windowMs: number): Promise<[number, number]> & Context
  }
}

/**
 * The per-caller fixed-window counter of @fastify/rate-limit's Redis store, taken
 * in blocks. Each request still gets its own number in the window (its `current`),
 * unique across gateways, so no more than `max` requests are ever admitted and a
 * single gateway answers exactly as before: same numbers, same 429 at `max + 1`.
 * What changes is how often Redis is asked: a caller that keeps a gateway busy gets
 * its numbers in blocks that double while it stays busy, up to 1/20 of its limit
 * (at most 100). The cost: numbers a gateway took but did not hand out before the
 * window ends count as used, so with several gateways a busy caller may be refused
 * up to (gateways - 1) blocks before its limit.
 */
export function leasedRedisStore(redis: Redis, prefix = 'rl:'): RateLimitStoreFactory {
  if (typeof (redis as { rateLimitTake?: unknown }).rateLimitTake !== 'function') redis.defineCommand('rateLimitTake', { numberOfKeys: 1, lua: TAKE })

  class LeasedRedisStore implements RateLimitStore {
    // Forgetting a key only drops its unused numbers (a caller quiet for two minutes
    // has no window left anyway).
    private readonly leases = new LRUCache<string, Lease>({ max: 100_000, ttl: 120_000, updateAgeOnGet: true })
    private readonly keyPrefix: string
    /** Round trips to Redis (blocks taken). */
    takes = 0

    // The plugin constructs the store with its options; a route's child gets its own prefix.
    constructor(options?: unknown, keyPrefix?: string) {
      refuseUnsupported(options)
      this.keyPrefix = keyPrefix ?? prefix
    }

    incr(key: string, cb: Callback, timeWindow: number, max: number): void {
      const now = performance.now()
      const full = this.keyPrefix + key
      let lease = this.leases.get(full)
      if (!lease) {
        lease = { next: 1, last: 0, expiresAt: 0, waiting: [], size: 1, takenAt: 0 }
        this.leases.set(full, lease)
      }
      if (lease.expiresAt > now && lease.next <= lease.last && lease.waiting.length === 0) {
        cb(null, { current: lease.next++, ttl: Math.ceil(lease.expiresAt - now) })
        return
      }
      // The first to wait fetches a block; later ones wait for it.
      if (lease.waiting.push(cb) === 1) this.take(full, lease, timeWindow, max)
    }

    private take(full: string, lease: Lease, timeWindow: number, max: number): void {
      const now = performance.now()
      const cap = Math.max(1, Math.min(MAX_LEASE, Math.floor(max * LEASE_SHARE)))
      // Hot: the last block ran out soon after it was taken (in this window).
      lease.size = lease.expiresAt > now && now - lease.takenAt < HOT_MS ? Math.min(cap, lease.size * 2) : 1
      const count = Math.min(cap, Math.max(lease.size, lease.waiting.length))
      this.takes++
      redis.rateLimitTake(full, count, timeWindow).then(
        ([total, ttl]) => {
          lease.next = total - count + 1
          lease.last = total
          // Counted from before the call: Redis read the ttl later than that, so the
          // block never outlives the key's window (on any gateway's count).
          lease.expiresAt = now + ttl
          lease.takenAt = performance.now()
          while (lease.waiting.length > 0 && lease.next <= lease.last) lease.waiting.shift()!(null, { current: lease.next++, ttl })
          if (lease.waiting.length > 0) this.take(full, lease, timeWindow, max)
        },
        (err: Error) => {
          for (const cb of lease.waiting.splice(0)) cb(err)
        },
      )
    }

    /** A route with limits of its own counts under its method and URL, as the plugin's Redis store does. */
    child(routeOptions: Parameters<RateLimitStore['child']>[0]): RateLimitStore {
      refuseUnsupported(routeOptions)
      return new LeasedRedisStore(undefined, childPrefix(this.keyPrefix, routeOptions))
    }
  }
  return LeasedRedisStore
}
