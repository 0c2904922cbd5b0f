import type { PackageEvent } from '../events/envelope.js'
import type { Package, PackageStatus } from './domain.js'
import type { Change } from './entity.js'

/** A change as written: the package's new state and its events with their seqs. */
export interface Written {
  pkg: Package
  events: PackageEvent[]
}

export interface ListFilter {
  status?: PackageStatus
  q?: string
  /** Only packages on this customer's tracking list. */
  trackedBy?: string
  /** Only packages this customer owns. */
  customerId?: string
  /** Only packages assigned to this driver. */
  driverId?: string
  limit: number
  cursor?: string
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/**
 * Saves what the entity decided. A change is written atomically: the package's
 * state, version + 1 and its events with the next consecutive seqs, or nothing.
 */
export interface PackageRepository {
  /** Inserts the new package (the change's `next`, version 1) with its events. Conflict if the number is taken. */
  create(change: Change): Promise<Written>
  get(trackingNumber: string): Promise<Package | null>
  /**
   * Lets `fn` decide on the current package (it may throw to abort), then saves the
   * change only if nobody changed the package in between; otherwise `fn` decides
   * again on the newer state, so it must not have side effects. A change without
   * events writes nothing. Not found: AppError not_found.
   */
  update(trackingNumber: string, fn: (pkg: Package) => Promise<Change> | Change, now: Date): Promise<Written>
  list(filter: ListFilter): Promise<Page<Package>>
  /** Durable events of the package in seq order, from `afterSeq` (exclusive). */
  events(packageId: string, afterSeq?: number): Promise<PackageEvent[]>
  /** True when the user is a driver (for assignments). */
  isDriver(userId: string): Promise<boolean>
  /** True when the user is a customer (for ownership). */
  isCustomer(userId: string): Promise<boolean>
  /** The customer account with this email (any case), or null when there is none. */
  customerIdByEmail(email: string): Promise<string | null>
}

export interface TrackingEntry {
  trackingNumber: string
  label: string | null
  addedAt: Date
  package: Package
}

export interface TrackingListRepository {
  /** Adds to the list; returns the entry and whether it was already there (idempotent). */
  add(userId: string, packageId: string, label: string | null): Promise<{ added: boolean }>
  list(userId: string): Promise<TrackingEntry[]>
  entry(userId: string, packageId: string): Promise<TrackingEntry | null>
  remove(userId: string, packageId: string): Promise<boolean>
  isTracking(userId: string, packageId: string): Promise<boolean>
  /** Users tracking the current package with the number (for `user:` channels). */
  trackers(trackingNumber: string): Promise<string[]>
  /**
   * Who hears of the current package with the number on their `user:` channel: its
   * owner, its assigned driver and its trackers, each with whether they see it in full (owner, assigned
   * driver, staff by their role now) or the public view.
   */
  audience(trackingNumber: string): Promise<Array<{ userId: string; full: boolean }>>
  /** Creates a pending external tracking (the change's package), adds it to the list and queues a carrier sync, atomically. */
  createExternal(userId: string, change: Change, label: string | null): Promise<Written>
}

/** The public view as served: its JSON text (sent as is, never parsed again) and that text's etag. */
export interface PublicViewEntry {
  body: string
  etag: string
}

export interface PublicView {
  trackingNumber: string
  status: PackageStatus
  carrier: string
  estimatedDelivery: string | null
  lastUpdatedAt: string
  /** Carrier trackings only: when the carrier was last asked (null: not yet). */
  lastCheckedAt?: string | null
  events: Array<{ status: PackageStatus; occurredAt: string; note?: string; city?: string }>
}

/** A package as one reader may see it: `view` tells a client which shape it got. */
export type PackageRead = ({ view: 'full'; sync?: CarrierSyncState } & Package) | ({ view: 'public' } & PublicView)

/** A tracking-list entry with the package as its reader may see it. */
export interface TrackingRead extends Omit<TrackingEntry, 'package'> {
  package: PackageRead
  /** Carrier trackings only: when the carrier was last asked (null: not yet). */
  lastCheckedAt?: Date | null
}

/** How a carrier tracking is kept current (the contract's Package `sync`, staff only). */
export interface CarrierSyncState {
  provider: string
  lastCheckedAt: Date | null
  /** Null once final or unknown at the carrier: never asked again. */
  nextCheckAt: Date | null
  consecutiveFailures: number
  requiresAttention: boolean
  notFound: boolean
}

/**
 * The carrier sync state of external trackings, kept by carrier/ (app wires it).
 * Reads never ask a provider.
 */
export interface CarrierSyncReader {
  /**
   * The state per package id (absent: no carrier tracking). A tracking overdue by
   * more than twice its interval is pulled forward for one refresh, at most once per
   * interval however many read it.
   */
  read(packageIds: readonly string[], now: Date): Promise<Map<string, CarrierSyncState>>
}

/**
 * Cache-aside store for package reads. Every method may throw when the cache is
 * down; the service then falls back to the repository. `undefined` means a miss.
 *
 * Fills are conditional, because the cache is shared by every gateway: read the
 * number's `generation` before loading from the database, and the fill is dropped
 * if any gateway invalidated the number since, so a slow reader never puts back a
 * state older than a committed write.
 */
export interface PackageCache {
  getPackage(trackingNumber: string): Promise<Package | undefined>
  /** The number's invalidation counter, opaque; read it before loading what you will fill. */
  generation(trackingNumber: string): Promise<string>
  /** Stores the package unless the number was invalidated after `generation` was read. */
  setPackage(pkg: Package, generation: string): Promise<void>
  getPublicView(trackingNumber: string): Promise<PublicViewEntry | undefined>
  /** Stores the view unless the number was invalidated after `generation` was read. */
  setPublicView(trackingNumber: string, entry: PublicViewEntry, generation: string): Promise<void>
  /** Bumps each number's generation and drops both its entries, atomically (all numbers at once). */
  invalidate(trackingNumbers: readonly string[]): Promise<void>
}

/** Where committed events go next: the gateway's event path (its own clients at once, then the relay). Must not throw. */
export interface CommittedEvents {
  committed(events: readonly PackageEvent[]): void
}

/**
 * Creates a package already offered to a driver: the package (the change, without
 * a driver), its offered assignment and `package.assigned` after the change's
 * events, in one transaction. `delivery/` implements it; `app` wires it in.
 */
export type CreateOffered = (change: Change, driverId: string, assignedBy: string) => Promise<Written>

/** Whether a package has a proof of delivery; set only when PROOF_REQUIRED_FOR_DELIVERED holds drivers to it. */
export interface DeliveryProofs {
  has(packageId: string): Promise<boolean>
}

export interface Logger {
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}
