import type { Redis } from 'ioredis'
import type { Package } from './domain.js'
import type { PackageCache, PublicViewEntry } from './ports.js'

export interface CacheCounters {
  hits: number
  misses: number
}

const pkgKey = (tn: string) => `pkg:${tn}`
const viewKey = (tn: string) => `track:${tn}`
const genKey = (tn: string) => `pkg-gen:${tn}`

// KEYS: entry, generation. ARGV: generation read before the load, value, ttl.
const FILL = `if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end`
// KEYS: generation, package entry, view entry of each number in turn. ARGV: ttl of the generations.
const INVALIDATE = `for i = 1, #KEYS, 3 do
  redis.call('INCR', KEYS[i]) redis.call('EXPIRE', KEYS[i], ARGV[1]) redis.call('DEL', KEYS[i + 1], KEYS[i + 2])
end`

/**
 * Package reads cached in Redis as JSON with a TTL; dates are revived on the way out.
 * A per-number generation counter, bumped with every invalidation, makes fills
 * conditional across gateways (a compare-and-set in one script).
 */
export class RedisPackageCache implements PackageCache {
  readonly counters: CacheCounters = { hits: 0, misses: 0 }

  constructor(private readonly redis: Redis, private readonly ttlSeconds: number) {}

  async getPackage(tn: string): Promise<Package | undefined> {
    const raw = await this.redis.get(pkgKey(tn))
    this.count(raw)
    return raw ? revivePackage(JSON.parse(raw) as Package) : undefined
  }

  async generation(tn: string): Promise<string> {
    return (await this.redis.get(genKey(tn))) ?? '0'
  }

  async setPackage(pkg: Package, generation: string): Promise<void> {
    await this.redis.eval(FILL, 2, pkgKey(pkg.trackingNumber), genKey(pkg.trackingNumber), generation, JSON.stringify(pkg), this.ttlSeconds)
  }

  // The view entry is the etag, a newline, then the body: no JSON around JSON, so a hit
  // costs neither a parse nor a serialization of the view.
  async getPublicView(tn: string): Promise<PublicViewEntry | undefined> {
    const raw = await this.redis.get(viewKey(tn))
    const newline = raw ? raw.indexOf('\n') : -1
    // Anything else under the key (an older format, a stray value) is a miss, never a body.
    const entry = raw && newline > 0 && raw.charCodeAt(newline + 1) === 123 /* { */ ? { etag: raw.slice(0, newline), body: raw.slice(newline + 1) } : undefined
    this.count(entry ? raw : null)
    return entry
  }

  async setPublicView(tn: string, entry: PublicViewEntry, generation: string): Promise<void> {
    await this.redis.eval(FILL, 2, viewKey(tn), genKey(tn), generation, `${entry.etag}\n${entry.body}`, this.ttlSeconds)
  }

  async invalidate(tns: readonly string[]): Promise<void> {
    if (tns.length === 0) return
    const keys = tns.flatMap((tn) => [genKey(tn), pkgKey(tn), viewKey(tn)])
    // Outlives any load in flight (an expired counter would read '0' again and let an old fill in).
    await this.redis.eval(INVALIDATE, keys.length, ...keys, this.ttlSeconds * 2)
  }

  private count(raw: string | null): void {
    if (raw) this.counters.hits++
    else this.counters.misses++
  }
}

function revivePackage(p: Package): Package {
  p.createdAt = new Date(p.createdAt)
  // Entries a gateway without migration 0019 filled during a rolling deploy.
  p.deliveryOption ??= 'standard'
  p.paymentStatus ??= 'not_required'
  p.updatedAt = new Date(p.updatedAt)
  if (p.estimatedDelivery) p.estimatedDelivery = new Date(p.estimatedDelivery)
  if (p.lastLocation) p.lastLocation.recordedAt = new Date(p.lastLocation.recordedAt)
  return p
}
