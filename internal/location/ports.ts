import type { Principal } from '../auth/domain.js'
import type { PackageEvent } from '../events/envelope.js'
import type { PackageStatus } from '../package/domain.js'
import type { HistoryWindow, LocationBatch, LocationPoint, NearbyHit, NearbyQuery, StoredLocation } from './domain.js'

export interface RecordResult {
  /** Points stored by this call. */
  accepted: number
  /** Points already stored (same device and recordedAt); not an error. */
  duplicates: number
  /** Whether the package's last location moved to the batch's newest point. */
  advanced: boolean
}

/**
 * Location history and the last known position of each package. Implemented by
 * PostgreSQL (postgres.ts) and MongoDB (mongo.ts); contract.ts is the suite both pass.
 */
export interface LocationRepository {
  /**
   * Appends the batch and moves the package's last position forward to the batch's
   * newest point. Idempotent per (deviceId, recordedAt): a repeated point is counted
   * as a duplicate and keeps its first values. The last position only moves to a
   * later recordedAt, so points may arrive in any order. Not atomic across the two
   * steps in MongoDB; a retry repairs a half-done batch.
   */
  record(batch: LocationBatch): Promise<RecordResult>
  /** The package's points in the window, newest first (ties by device id). */
  history(packageId: string, window: HistoryWindow): Promise<StoredLocation[]>
  /**
   * Packages whose last position lies within radiusM (great-circle metres,
   * inclusive) of the point, nearest first, at most `limit`. Works across the
   * antimeridian and at the poles.
   */
  nearby(query: NearbyQuery): Promise<NearbyHit[]>
  /** Releases what the adapter opened (the caller still owns the client). */
  close?(): Promise<void>
}

/**
 * The package resource's own lastLocation (packages.last_* in PostgreSQL). Needed
 * only when the LocationRepository keeps positions elsewhere (MongoDB); the
 * PostgreSQL repository moves these columns itself in the same statement.
 */
export interface LastLocationStore {
  /** Moves forward only: sets the position when the package has none or an older one. True when it moved. */
  advance(packageId: string, point: LocationPoint): Promise<boolean>
}

/** Current facts about packages that the location store does not keep. */
export interface PackageDirectory {
  /** Number and status of each live (not deleted) package among the ids; others are left out. */
  summaries(ids: string[]): Promise<Map<string, { trackingNumber: string; status: PackageStatus }>>
}

/** The package read rule of GET /packages/:tn (customers: tracked, drivers: assigned, else 404). */
export interface PackageReader {
  /** The package's id and number if the principal may read it; throws not_found otherwise. */
  readable(principal: Principal, trackingNumber: string): Promise<{ id: string; trackingNumber: string }>
}

/** Where live `package.location` events go (the bus, or this gateway's hub). Must not throw. */
export type LiveSink = (event: PackageEvent) => void

/** Drops the cached package reads of a number after its lastLocation moved. Must not throw. */
export type CacheInvalidator = (trackingNumber: string) => void

/** Records that a device delivered data (its lastSeenAt). */
export type DeviceSeen = (device: { id: string; lastSeenAt: Date | null }) => Promise<void>
