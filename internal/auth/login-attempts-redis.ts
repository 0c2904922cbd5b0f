import type { Redis } from 'ioredis'
import type { AttemptResult, LoginAttemptStore, ThrottleRule } from './ports.js'

// One round trip, atomic: read the hold, count the attempt, set the next hold and the expiry.
const ATTEMPT = `
local now = tonumber(ARGV[1])
local hold = tonumber(redis.call('HGET', KEYS[1], 'hold') or '0')
if now < hold then return {0, hold - now} end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local free = tonumber(ARGV[2])
if n >= free then
  local delay = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ math.min(n - free, 40))
  redis.call('HSET', KEYS[1], 'hold', string.format('%d', now + delay))
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, n}
`

/** Attempts in Redis hashes (`n`, `hold`), shared by every gateway; each key expires forgetAfterMs after its last counted attempt. */
export class RedisLoginAttemptStore implements LoginAttemptStore {
  constructor(private readonly redis: Redis) {}

  async attempt(key: string, now: number, rule: ThrottleRule): Promise<AttemptResult> {
    const [allowed, value] = (await this.redis.eval(ATTEMPT, 1, key, now, rule.freeAttempts, rule.baseDelayMs, rule.maxDelayMs, rule.forgetAfterMs)) as [number, number]
    return allowed === 1 ? { allowed: true, attempts: value } : { allowed: false, retryAfterMs: value }
  }

  async clear(key: string): Promise<void> {
    await this.redis.del(key)
  }
}
