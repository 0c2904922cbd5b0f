/** Time as the WebSocket limits see it; tests pass a hand-moved one. */
export interface WsClock {
  /** Milliseconds since the epoch (token `exp` is compared with it). */
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: WsClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms)
    // A pending expiry must not keep a stopping process alive.
    timer.unref()
    return timer
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

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
    private readonly now: () => number,
  ) {
    this.tokens = burst
    this.at = now()
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const now = this.now()
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
