import type { Package } from './domain.js'
import type { Logger, PackageCache, PublicViewEntry } from './ports.js'

/**
 * Cache-aside around a PackageCache that never lets the cache fail a request:
 * read errors fall through to the loader. An invalidation that fails (cache down)
 * is remembered and retried; until it succeeds that number bypasses the cache,
 * so nobody reads an entry older than a committed write once the cache is back.
 */
export class PackageReadCache {
  private readonly stale = new Set<string>()
  /** Invalidated in this turn of the event loop, not yet sent (a send is scheduled while it is not empty). */
  private readonly queued = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  // Bumped by every invalidation: a load that raced a write must not put its older value back.
  private generation = 0

  constructor(private readonly cache: PackageCache, private readonly log: Logger, private readonly retryMs = 1_000) {}

  package(tn: string, load: (tn: string) => Promise<Package | null>): Promise<Package | null> {
    return this.through(tn, () => this.cache.getPackage(tn), load, (pkg, gen) => this.cache.setPackage(pkg, gen))
  }

  publicView(tn: string, load: (tn: string) => Promise<PublicViewEntry | null>): Promise<PublicViewEntry | null> {
    return this.through(tn, () => this.cache.getPublicView(tn), load, (entry, gen) => this.cache.setPublicView(tn, entry, gen))
  }

  /**
   * Fire-and-forget after a commit; failures are retried in the background. The
   * numbers invalidated in one turn of the event loop go to the cache together
   * (one script for a batch of status changes); until then, and until it
   * succeeds, reads of them bypass the cache.
   */
  invalidate(tn: string): void {
    this.generation++
    this.stale.add(tn)
    const scheduled = this.queued.size > 0
    this.queued.add(tn)
    if (scheduled) return
    setImmediate(() => {
      const tns = [...this.queued]
      this.queued.clear()
      this.send(tns).catch((err: unknown) => {
        this.log.warn({ err, trackingNumbers: tns }, 'cache invalidation failed; will retry')
        this.scheduleRetry()
      })
    })
  }

  /** Invalidates the numbers; once done they are fresh, unless invalidated again meanwhile (that one must land too). */
  private async send(tns: string[]): Promise<void> {
    await this.cache.invalidate(tns)
    for (const n of tns) if (!this.queued.has(n)) this.stale.delete(n)
  }

  /** Numbers whose invalidation is still pending. */
  get pendingInvalidations(): number {
    return this.stale.size
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private async through<T>(tn: string, get: () => Promise<T | undefined>, load: (tn: string) => Promise<T | null>, set: (v: T, cacheGeneration: string) => Promise<void>): Promise<T | null> {
    let cacheGeneration: string | undefined
    if (!this.stale.has(tn)) {
      try {
        const hit = await get()
        if (hit !== undefined) return hit
        // Read before the load: another gateway's write in between makes the fill a no-op.
        cacheGeneration = await this.cache.generation(tn)
      } catch (err) {
        this.log.warn({ err }, 'cache read failed; reading from the database')
      }
    }
    const generation = this.generation
    const value = await load(tn)
    if (value !== null && cacheGeneration !== undefined && generation === this.generation && !this.stale.has(tn)) {
      set(value, cacheGeneration).catch(() => undefined)
    }
    return value
  }

  private scheduleRetry(): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      const tns = [...this.stale].filter((n) => !this.queued.has(n))
      if (tns.length > 0) this.send(tns).catch(() => undefined)
      if (this.stale.size === 0) this.close()
    }, this.retryMs)
    this.timer.unref()
  }
}
