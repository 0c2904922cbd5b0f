import type { DurableEventType, Package, PackageEvent, PackageStatus, Party, GeoPoint } from './domain.js'

export interface NewPackage {
  trackingNumber: string
  carrier: string
  description?: string
  weightGrams?: number
  sender: Party
  recipient: Party
  origin?: GeoPoint
  destination?: GeoPoint
  estimatedDelivery?: Date
  driverId?: string
}

/** An event the service wants recorded; the repository gives it its id and `seq`. */
export interface NewEvent {
  type: DurableEventType
  occurredAt: Date
  data: Record<string, unknown>
}

/** What an update closure decides: new field values and the events that record them. */
export interface Mutation {
  set?: Partial<Omit<Package, 'id' | 'trackingNumber' | 'version' | 'seq' | 'createdAt' | 'updatedAt'>>
  /** Fields to clear (set to null). */
  clear?: ReadonlyArray<keyof Package>
  events: NewEvent[]
  delete?: boolean
}

export interface ListFilter {
  status?: PackageStatus
  q?: string
  /** Only packages on this customer's tracking list. */
  trackedBy?: string
  /** Only packages assigned to this driver. */
  driverId?: string
  limit: number
  cursor?: string
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export interface PackageRepository {
  /** Inserts the package at version 1 with its `package.created` event (seq 1), atomically. Conflict if the number is taken. */
  create(input: NewPackage, created: (pkg: Package) => NewEvent, now: Date): Promise<{ pkg: Package; events: PackageEvent[] }>
  get(trackingNumber: string): Promise<Package | null>
  /**
   * Lets `fn` decide on the current package (it may throw to abort), then writes the
   * new state, version + 1 and the events with consecutive seqs atomically, only if
   * nobody changed the package in between; otherwise `fn` decides again on the newer
   * state, so it must not have side effects. Not found: AppError not_found.
   */
  update(trackingNumber: string, fn: (pkg: Package) => Promise<Mutation> | Mutation, now: Date): Promise<{ pkg: Package; events: PackageEvent[] }>
  list(filter: ListFilter): Promise<Page<Package>>
  /** Durable events of the package in seq order, from `afterSeq` (exclusive). */
  events(packageId: string, afterSeq?: number): Promise<PackageEvent[]>
  /** True when the user is a driver (for assignments). */
  isDriver(userId: string): Promise<boolean>
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
  /** Users tracking the package (for `user:` channels). */
  trackers(packageId: string): Promise<string[]>
  /** Creates a pending external tracking, adds it to the list and queues a carrier sync, atomically. */
  createExternal(userId: string, input: NewPackage, label: string | null, created: (pkg: Package) => NewEvent, now: Date): Promise<{ pkg: Package; events: PackageEvent[] }>
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
  events: Array<{ status: PackageStatus; occurredAt: string; note?: string; city?: string }>
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

export interface Logger {
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}
