import type { Timers } from '../platform/timers.js'

/**
 * A token bucket: `burst` messages at once, refilled at `perSecond`. One per
 * connection, so a client that floods is told apart from one that subscribes to
 * its whole list on connect.
 */
export class TokenBucket {
  private tokens: number
  private at: number

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly clock: { now(): number },
  ) {
    this.tokens = burst
    this.at = clock.now()
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const now = this.clock.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond)
    this.at = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

/**
 * Open WebSocket connections per client address, in this gateway's process (each
 * gateway behind a load balancer counts its own).
 */
export class ConnectionsPerIp {
  private readonly counts = new Map<string, number>()

  constructor(readonly max: number) {}

  count(ip: string): number {
    return this.counts.get(ip) ?? 0
  }

  full(ip: string): boolean {
    return this.count(ip) >= this.max
  }

  /** Counts a connection; false (and nothing counted) when the address is at its cap. */
  acquire(ip: string): boolean {
    const n = this.count(ip)
    if (n >= this.max) return false
    this.counts.set(ip, n + 1)
    return true
  }

  release(ip: string): void {
    const n = this.count(ip) - 1
    if (n <= 0) this.counts.delete(ip)
    else this.counts.set(ip, n)
  }
}

/** setTimeout's longest delay; a later deadline is armed again then. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Something told when its deadline comes. */
export interface Due {
  due(): void
}

/**
 * Tells holders their time has come, one timer per distinct time: token expiries
 * are whole seconds, and every socket of one token (or of one second) shares a
 * timer instead of holding its own. Holders are objects, not closures, so a socket
 * costs a set entry and nothing more.
 */
export class Deadlines {
  private readonly due = new Map<number, { timer: unknown; holders: Set<Due> }>()

  constructor(private readonly clock: Timers) {}

  /** Tells `holder` at `at` (ms since the epoch; at once if past). */
  add(at: number, holder: Due): void {
    if (at <= this.clock.now()) return holder.due()
    let slot = this.due.get(at)
    if (!slot) {
      slot = { timer: undefined, holders: new Set() }
      this.due.set(at, slot)
      this.arm(at, slot)
    }
    slot.holders.add(holder)
  }

  /** Takes back what `add(at, holder)` set up. */
  remove(at: number, holder: Due): void {
    const slot = this.due.get(at)
    if (!slot?.holders.delete(holder) || slot.holders.size > 0) return
    this.clock.clearTimeout(slot.timer)
    this.due.delete(at)
  }

  /** Timers pending (tests and the benchmark read it). */
  get size(): number {
    return this.due.size
  }

  private arm(at: number, slot: { timer: unknown; holders: Set<Due> }): void {
    const left = at - this.clock.now()
    if (left > 0) {
      slot.timer = this.clock.setTimeout(() => this.arm(at, slot), Math.min(left, MAX_TIMER_MS))
      return
    }
    this.due.delete(at)
    for (const holder of slot.holders) holder.due()
  }
}
