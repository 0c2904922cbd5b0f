import { LRUCache } from 'lru-cache'
import type { Package } from './domain.js'
import type { PackageCache, PublicViewEntry } from './ports.js'

export interface MemoryPackageCacheOptions {
  ttlSeconds: number
  /** Most numbers held, each with its package and view (and as many generations). */
  maxEntries?: number
  /** Monotonic milliseconds; `performance` unless a test moves time by hand. */
  clock?: { now(): number }
}

/**
 * Package reads cached in this process, for a gateway that runs alone (embedded
 * mode). Bounded (least recently used go first) and expiring like the Redis cache;
 * values are copied in and out, so a caller changing what it read changes nothing
 * here. Fills are conditional on a per-number generation, as the port requires.
 */
export class MemoryPackageCache implements PackageCache {
  readonly counters = { hits: 0, misses: 0 }
  private readonly packages: LRUCache<string, Package>
  private readonly views: LRUCache<string, PublicViewEntry>
  private readonly generations: LRUCache<string, number>
  private lastGeneration = 0
  // What a number without a generation of its own reads: at least every generation
  // forgotten so far, so forgetting one never lets a fill older than it back in.
  private floor = 0

  constructor(opts: MemoryPackageCacheOptions) {
    const max = opts.maxEntries ?? 10_000
    // ttlResolution 0: read the clock on every check, never a cached reading of it.
    const timing = { ttl: opts.ttlSeconds * 1_000, ttlResolution: 0, perf: opts.clock }
    this.packages = new LRUCache({ max, ...timing })
    this.views = new LRUCache({ max, ...timing })
    this.generations = new LRUCache({
      max,
      noDisposeOnSet: true,
      dispose: (generation) => {
        this.floor = Math.max(this.floor, generation)
      },
    })
  }

  async getPackage(tn: string): Promise<Package | undefined> {
    const pkg = this.packages.get(tn)
    this.count(pkg)
    return pkg && structuredClone(pkg)
  }

  async generation(tn: string): Promise<string> {
    return this.current(tn)
  }

  async setPackage(pkg: Package, generation: string): Promise<void> {
    if (this.current(pkg.trackingNumber) === generation) this.packages.set(pkg.trackingNumber, structuredClone(pkg))
  }

  async getPublicView(tn: string): Promise<PublicViewEntry | undefined> {
    const entry = this.views.get(tn)
    this.count(entry)
    return entry && { body: entry.body, etag: entry.etag }
  }

  async setPublicView(tn: string, entry: PublicViewEntry, generation: string): Promise<void> {
    if (this.current(tn) === generation) this.views.set(tn, { body: entry.body, etag: entry.etag })
  }

  async invalidate(tns: readonly string[]): Promise<void> {
    for (const tn of tns) {
      // One counter for all numbers: a generation never repeats, not even after being forgotten.
      this.generations.set(tn, ++this.lastGeneration)
      this.packages.delete(tn)
      this.views.delete(tn)
    }
  }

  // Compared and stored in one synchronous step: no invalidation can come in between.
  private current(tn: string): string {
    return String(this.generations.get(tn) ?? this.floor)
  }

  private count(value: unknown): void {
    if (value) this.counters.hits++
    else this.counters.misses++
  }
}
