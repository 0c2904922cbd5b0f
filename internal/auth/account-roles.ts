import { LRUCache } from 'lru-cache'
import type { UserRole } from './domain.js'

/**
 * How long an account seen to exist is believed to, before a token naming it makes
 * the gateway look again: a deleted user's token is refused within this time on
 * every gateway, while an active client costs one indexed read per interval, not
 * one per request (scripts/bench/auth.ts measures the check).
 */
export const ACCOUNT_RECHECK_MS = 2_000

/**
 * Accounts' current roles, read from the database at most once per
 * ACCOUNT_RECHECK_MS each. REST authentication and WebSocket subscriptions share
 * it, so a client opening many sockets costs one read, not one per socket. The
 * gateway forgets an account the moment it hears it changed (here or by notice).
 */
export class AccountRoles {
  private readonly seen = new LRUCache<string, { at: number; role: UserRole }>({ max: 50_000 })

  constructor(
    private readonly read: (userId: string) => Promise<UserRole | null>,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The account's role; null when it no longer exists. Read again when not read
   * within the recheck time, or when `expected` (a token's role) differs from the
   * one remembered: the token may be the newer one.
   */
  async role(userId: string, expected?: string): Promise<UserRole | null> {
    const known = this.seen.get(userId)
    if (known && known.role === (expected ?? known.role) && this.clock() - known.at < ACCOUNT_RECHECK_MS) return known.role
    const role = await this.read(userId)
    if (role === null) this.seen.delete(userId)
    else this.seen.set(userId, { at: this.clock(), role })
    return role
  }

  /** The account changed: its next use reads it again. */
  forget(userId: string): void {
    this.seen.delete(userId)
  }

  /** Notices may have been missed: every account is read again. */
  forgetAll(): void {
    this.seen.clear()
  }
}
