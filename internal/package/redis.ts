import type { Redis } from 'ioredis'
import type { Package } from './domain.js'
import type { PackageCache, PublicView } from './ports.js'

export interface CacheCounters {
  hits: number
  misses: number
}

const pkgKey = (tn: string) => `pkg:${tn}`
const viewKey = (tn: string) => `track:${tn}`

/** Package reads cached in Redis as JSON with a TTL; dates are revived on the way out. */
export class RedisPackageCache implements PackageCache {
  readonly counters: CacheCounters = { hits: 0, misses: 0 }

  constructor(private readonly redis: Redis, private readonly ttlSeconds: number) {}

  async getPackage(tn: string): Promise<Package | undefined> {
    const raw = await this.redis.get(pkgKey(tn))
    this.count(raw)
    return raw ? revivePackage(JSON.parse(raw) as Package) : undefined
  }

  async setPackage(pkg: Package): Promise<void> {
    await this.redis.set(pkgKey(pkg.trackingNumber), JSON.stringify(pkg), 'EX', this.ttlSeconds)
  }

  async getPublicView(tn: string): Promise<{ view: PublicView; etag: string } | undefined> {
    const raw = await this.redis.get(viewKey(tn))
    this.count(raw)
    return raw ? (JSON.parse(raw) as { view: PublicView; etag: string }) : undefined
  }

  async setPublicView(tn: string, entry: { view: PublicView; etag: string }): Promise<void> {
    await this.redis.set(viewKey(tn), JSON.stringify(entry), 'EX', this.ttlSeconds)
  }

  async invalidate(tn: string): Promise<void> {
    await this.redis.del(pkgKey(tn), viewKey(tn))
  }

  private count(raw: string | null): void {
    if (raw) this.counters.hits++
    else this.counters.misses++
  }
}

function revivePackage(p: Package): Package {
  p.createdAt = new Date(p.createdAt)
  p.updatedAt = new Date(p.updatedAt)
  if (p.estimatedDelivery) p.estimatedDelivery = new Date(p.estimatedDelivery)
  if (p.lastLocation) p.lastLocation.recordedAt = new Date(p.lastLocation.recordedAt)
  return p
}
