import type { Redis } from 'ioredis'
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js'

/** Idempotency records in Redis, shared by every gateway: a claim is SET NX, pipelined with the GET of what is there. */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(private readonly redis: Redis) {}

  async claim(key: string, record: string, ttlMs: number): Promise<ClaimResult> {
    const replies = await this.redis.pipeline().set(key, record, 'PX', ttlMs, 'NX').get(key).exec()
    const [set, get] = replies ?? []
    if (!set || set[0]) throw set?.[0] ?? new Error('the Redis pipeline was not run')
    // Ours whatever became of the read: what it would have found is our own claim.
    if (set[1] === 'OK') return { claimed: true }
    if (!get || get[0]) throw get?.[0] ?? new Error('the Redis pipeline was cut short')
    return { claimed: false, record: get[1] as string | null }
  }

  async finish(key: string, record: string, ttlMs: number): Promise<void> {
    await this.redis.set(key, record, 'PX', ttlMs)
  }

  async release(key: string): Promise<void> {
    await this.redis.del(key)
  }
}
