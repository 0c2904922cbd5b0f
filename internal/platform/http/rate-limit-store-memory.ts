import { LRUCache } from 'lru-cache'
import { childPrefix, refuseUnsupported, type RateLimitStore, type RateLimitStoreFactory } from './rate-limit-store.js'

type Callback = Parameters<RateLimitStore['incr']>[1]

export interface MemoryRateLimitOptions {
  /** Most keys counted at once; past it the key quiet longest starts afresh. */
  maxKeys?: number
  /** Monotonic milliseconds; `performance` unless a test moves time by hand. */
  clock?: { now(): number }
}

interface Window {
  count: number
  endsAt: number
}

/**
 * The fixed-window counter of a gateway that runs alone (embedded mode): counts
 * in this process, timed by a monotonic clock so a wall-clock step never ends or
 * stretches a window. A route's child store shares the parent's bound, with keys
 * of its own.
 */
export function memoryRateLimitStore(opts: MemoryRateLimitOptions = {}): RateLimitStoreFactory {
  const clock = opts.clock ?? performance
  const windows = new LRUCache<string, Window>({ max: opts.maxKeys ?? 100_000 })

  class MemoryRateLimitStore implements RateLimitStore {
    private readonly keyPrefix: string

    constructor(options?: unknown, keyPrefix = '') {
      refuseUnsupported(options)
      this.keyPrefix = keyPrefix
    }

    incr(key: string, cb: Callback, timeWindow: number): void {
      const now = clock.now()
      const full = this.keyPrefix + key
      let window = windows.get(full)
      if (!window || window.endsAt <= now) {
        window = { count: 0, endsAt: now + timeWindow }
        windows.set(full, window)
      }
      window.count++
      cb(null, { current: window.count, ttl: Math.ceil(window.endsAt - now) })
    }

    child(routeOptions: Parameters<RateLimitStore['child']>[0]): RateLimitStore {
      refuseUnsupported(routeOptions)
      return new MemoryRateLimitStore(undefined, childPrefix(this.keyPrefix, routeOptions))
    }
  }
  return MemoryRateLimitStore
}
