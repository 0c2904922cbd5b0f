import { LRUCache } from 'lru-cache'
import type { AttemptResult, LoginAttemptStore, ThrottleRule } from './ports.js'

interface Entry {
  attempts: number
  holdUntil: number
  lastAt: number
}

/**
 * Attempts in this process's memory, for a gateway that runs alone (embedded mode).
 * Bounded: past maxKeys the keys used least recently go first, so a spray of made-up
 * emails cannot grow the process.
 */
export class MemoryLoginAttemptStore implements LoginAttemptStore {
  private readonly entries: LRUCache<string, Entry>

  constructor(opts: { maxKeys?: number } = {}) {
    this.entries = new LRUCache({ max: opts.maxKeys ?? 100_000 })
  }

  async attempt(key: string, now: number, rule: ThrottleRule): Promise<AttemptResult> {
    let entry = this.entries.get(key)
    if (entry && now - entry.lastAt >= rule.forgetAfterMs) entry = undefined
    if (entry && now < entry.holdUntil) return { allowed: false, retryAfterMs: entry.holdUntil - now }
    const attempts = (entry?.attempts ?? 0) + 1
    const delay = attempts >= rule.freeAttempts ? Math.min(rule.maxDelayMs, rule.baseDelayMs * 2 ** Math.min(attempts - rule.freeAttempts, 40)) : 0
    this.entries.set(key, { attempts, holdUntil: delay > 0 ? now + delay : 0, lastAt: now })
    return { allowed: true, attempts }
  }

  async clear(key: string): Promise<void> {
    this.entries.delete(key)
  }
}
