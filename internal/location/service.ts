import { randomUUID } from 'node:crypto'
import type { Principal } from '../auth/domain.js'
import type { AuthenticatedDevice } from '../device/domain.js'
import type { Actor } from '../events/envelope.js'
import { conflict, invalid } from '../platform/errors.js'
import type { PackageStatus } from '../package/domain.js'
import { checkPoints, liveData, newest, type HistoryWindow, type LocationPoint, type NearbyQuery, type StoredLocation } from './domain.js'
import type { CacheInvalidator, DeviceSeen, LastLocationStore, LiveSink, LocationRepository, PackageDirectory, PackageReader } from './ports.js'
import type { Timers } from '../platform/timers.js'
import { LiveThrottle } from './throttle.js'

export interface LocationServiceDeps {
  locations: LocationRepository
  /** Set when `locations` keeps positions outside the package database (MongoDB). */
  lastLocation?: LastLocationStore
  packages: PackageReader
  directory: PackageDirectory
  invalidate: CacheInvalidator
  deviceSeen: DeviceSeen
  /** Receives the throttled live `package.location` events. */
  live: LiveSink
  /** At most this many live events per package and second (per gateway). */
  liveMaxPerSecond?: number
  clock?: () => Date
  timers?: Timers
  log: { warn(o: object, m: string): void }
}

export interface NearbyItem {
  trackingNumber: string
  status: PackageStatus
  lat: number
  lng: number
  recordedAt: Date
  distanceM: number
}

/** Location ingest from devices, history reads and the nearby search. */
export class LocationService {
  private readonly now: () => Date
  readonly throttle: LiveThrottle

  constructor(private readonly deps: LocationServiceDeps) {
    this.now = deps.clock ?? (() => new Date())
    this.throttle = new LiveThrottle(deps.live, Math.round(1000 / (deps.liveMaxPerSecond ?? 3)), deps.timers)
  }

  /**
   * Stores a device's batch for its bound package: duplicates are counted, not
   * refused; the package's lastLocation only moves forward; a live event for the
   * newest point follows (throttled per package).
   */
  async ingest(device: AuthenticatedDevice, points: LocationPoint[]): Promise<{ accepted: number; duplicates: number }> {
    if (!device.packageId || !device.trackingNumber) {
      throw conflict(`device "${device.name}" is not bound to a package; an admin binds it with PUT /devices/${device.id}/package`)
    }
    const seen = this.deps.deviceSeen(device).catch((err: unknown) => this.deps.log.warn({ err, deviceId: device.id }, 'could not update lastSeenAt'))
    const [result] = await Promise.all([this.ingestFrom({ packageId: device.packageId, trackingNumber: device.trackingNumber, sourceId: device.id, actor: { type: 'device', id: device.id } }, points), seen])
    return result
  }

  /**
   * The same ingest for fixes from another source than a device (a driver's phone
   * for one accepted package): `sourceId` stands where the device id would, so a
   * resent point is a duplicate per source and package. `actor`: the device, or the driver.
   */
  async ingestFrom(source: { packageId: string; trackingNumber: string; sourceId: string; actor: Actor }, points: LocationPoint[]): Promise<{ accepted: number; duplicates: number }> {
    checkPoints(points, this.now())
    const latest = newest(points)
    const result = await this.deps.locations.record({ packageId: source.packageId, trackingNumber: source.trackingNumber, deviceId: source.sourceId, points })
    let advanced = result.advanced
    if (this.deps.lastLocation) advanced = await this.deps.lastLocation.advance(source.packageId, latest)
    if (advanced) this.deps.invalidate(source.trackingNumber)
    if (result.accepted > 0) {
      const at = this.now()
      this.throttle.offer({
        id: randomUUID(),
        type: 'package.location',
        trackingNumber: source.trackingNumber,
        occurredAt: latest.recordedAt,
        recordedAt: at,
        data: liveData(latest, source.sourceId),
        actor: source.actor,
      }, latest.recordedAt.getTime())
    }
    return { accepted: result.accepted, duplicates: result.duplicates }
  }

  /** The package's points, newest first, under the read rule of GET /packages/:tn. */
  async history(principal: Principal, trackingNumber: string, window: HistoryWindow): Promise<StoredLocation[]> {
    if (window.since && window.until && window.since >= window.until) throw invalid('/query/until', 'must be later than since')
    const pkg = await this.deps.packages.readable(principal, trackingNumber)
    return this.deps.locations.history(pkg.id, window)
  }

  /** Live packages whose last location is within the radius, nearest first. */
  async nearby(query: NearbyQuery): Promise<NearbyItem[]> {
    // Deleted packages may still have a position in the store: ask for some extra and drop them.
    const hits = await this.deps.locations.nearby({ ...query, limit: Math.min(query.limit * 2, query.limit + 100) })
    const live = await this.deps.directory.summaries(hits.map((h) => h.packageId))
    const items: NearbyItem[] = []
    for (const h of hits) {
      const pkg = live.get(h.packageId)
      if (!pkg) continue
      items.push({ trackingNumber: pkg.trackingNumber, status: pkg.status, lat: h.lat, lng: h.lng, recordedAt: h.recordedAt, distanceM: h.distanceM })
      if (items.length === query.limit) break
    }
    return items
  }

  close(): void {
    this.throttle.close()
  }
}
