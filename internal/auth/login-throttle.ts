import { createHash } from 'node:crypto'
import { AppError, isDependencyDown } from '../platform/errors.js'
import type { LoginAttemptStore, ThrottleRule } from './ports.js'

/**
 * Sign-in throttling, two keys per attempt (see docs/security.md):
 * - the account and the client's address: 5 free attempts, then 1 s doubling per
 *   attempt, at most 5 min. It slows a guesser without touching anyone elsewhere.
 * - the account alone, for guessers spread over many addresses: 20 free attempts,
 *   then 1 s doubling, at most 1 min. It only holds back addresses that have
 *   already failed 3 times on the account themselves, so an attacker elsewhere can
 *   never lock the real user out: their first attempts always get through.
 * A sign-in resets its address's key; the account's key runs out on its own.
 */
export interface LoginThrottlePolicy {
  perAddress: ThrottleRule
  perAccount: ThrottleRule
  /** Attempts of an address on an account that the account-wide rule leaves alone. */
  addressGrace: number
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = {
  perAddress: { freeAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000, forgetAfterMs: 15 * 60_000 },
  perAccount: { freeAttempts: 20, baseDelayMs: 1_000, maxDelayMs: 60_000, forgetAfterMs: 60 * 60_000 },
  addressGrace: 3,
}

/** 429 rate_limited; the route sends `retry-after` from retryAfterS. */
export class LoginThrottled extends AppError {
  readonly retryAfterS: number
  constructor(retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000))
    super('rate_limited', 'rate_limited', `too many sign-in attempts for this account; try again in ${seconds} s`)
    this.retryAfterS = seconds
  }
}

export interface LoginThrottleOptions {
  policy?: LoginThrottlePolicy
  log?: { warn(obj: object, msg: string): void }
}

export class LoginThrottle {
  private readonly policy: LoginThrottlePolicy

  constructor(
    private readonly store: LoginAttemptStore,
    private readonly opts: LoginThrottleOptions = {},
  ) {
    this.policy = opts.policy ?? DEFAULT_LOGIN_THROTTLE
  }

  /**
   * Counts a sign-in attempt before the password is checked (so attempts sent at once
   * cannot all slip through), or throws LoginThrottled. Returns what `succeeded` needs;
   * undefined when the store cannot answer: like the request rate limit, the throttle
   * then steps aside rather than refuse every sign-in.
   */
  async admit(email: string, address: string, now: number): Promise<string | undefined> {
    try {
      return await this.count(email, address, now)
    } catch (err) {
      if (err instanceof LoginThrottled || !isDependencyDown(err)) throw err
      this.opts.log?.warn({ err }, 'sign-in throttle unavailable: attempts are not counted')
      return undefined
    }
  }

  private async count(email: string, address: string, now: number): Promise<string> {
    // Emails are hashed: the store never holds an address book.
    const account = `login:${createHash('sha256').update(email).digest('base64url').slice(0, 22)}`
    const pairKey = `${account}:${address}`
    const pair = await this.store.attempt(pairKey, now, this.policy.perAddress)
    if (!pair.allowed) throw new LoginThrottled(pair.retryAfterMs)
    if (pair.attempts > this.policy.addressGrace) {
      const all = await this.store.attempt(account, now, this.policy.perAccount)
      if (!all.allowed) throw new LoginThrottled(all.retryAfterMs)
    }
    return pairKey
  }

  /** The password was right: the address starts afresh. */
  async succeeded(pairKey: string): Promise<void> {
    await this.store.clear(pairKey).catch((err: unknown) => {
      if (!isDependencyDown(err)) throw err
    })
  }
}
