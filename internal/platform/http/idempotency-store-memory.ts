import { LRUCache } from 'lru-cache'
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js'

export interface MemoryIdempotencyStoreOptions {
  /** Most characters of keys and records held (both are ASCII: about as many bytes). */
  maxSize?: number
  /** Monotonic milliseconds; `performance` unless a test moves time by hand. */
  clock?: { now(): number }
}

/**
 * Idempotency records of a gateway that runs alone (embedded mode), in this
 * process. A claim is a look and a store in one synchronous step, so no other
 * claim comes in between. Past `maxSize` the records used least recently go first:
 * a retry of one of them runs as a new request.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records: LRUCache<string, string>

  constructor(opts: MemoryIdempotencyStoreOptions = {}) {
    this.records = new LRUCache({
      maxSize: opts.maxSize ?? 64 * 1024 * 1024,
      sizeCalculation: (record, key) => key.length + record.length,
      // Read the clock on every check, never a cached reading of it.
      ttlResolution: 0,
      perf: opts.clock,
    })
  }

  async claim(key: string, record: string, ttlMs: number): Promise<ClaimResult> {
    const found = this.records.get(key)
    if (found !== undefined) return { claimed: false, record: found }
    this.records.set(key, record, { ttl: ttlMs })
    return { claimed: true }
  }

  async finish(key: string, record: string, ttlMs: number): Promise<void> {
    this.records.set(key, record, { ttl: ttlMs })
  }

  async release(key: string): Promise<void> {
    this.records.delete(key)
  }
}
