import { createHash } from 'node:crypto'
import { actorOf, SEES_ALL, type Principal } from '../auth/domain.js'
import { AppError, forbidden, invalid, notFound } from '../platform/errors.js'
import { seesActor, SYSTEM_ACTOR } from '../events/actor.js'
import { withoutActor, type Actor, type PackageEvent } from '../events/envelope.js'
import { generateTrackingNumber, normalizeTrackingNumber, versionMismatch, type NewPackage, type Package, type PackagePatch, type PackageStatus, type StatusChange } from './domain.js'
import { attribute, changeStatus, createExternalTracking, createPackage, deletePackage, externalTrackingConflict, mergeExternal, patchDetails, type Change } from './entity.js'
import type { CarrierSyncReader, CarrierSyncState, CommittedEvents, CreateOffered, DeliveryProofs, ListFilter, Logger, Page, PackageCache, PackageRead, PackageRepository, PublicView, PublicViewEntry, TrackingEntry, TrackingListRepository, TrackingRead, Written } from './ports.js'
import { PackageReadCache } from './read-cache.js'

export interface PackageServiceDeps {
  packages: PackageRepository
  trackings: TrackingListRepository
  cache: PackageCache
  log: Logger
  clock?: () => Date
  /** Hears of every committed change's events (the event path: this gateway's hub, then the relay). */
  events: CommittedEvents
  /** When set, a driver's `delivered` needs a proof of delivery first (409 proof_required). */
  deliveryProofs?: DeliveryProofs
  /** Creates a package with `driverId` as an offer to that driver (an assignment); without it the field is only stored. */
  createOffered?: CreateOffered
  /** Carrier trackings' sync state (lastCheckedAt, staff's `sync`); none: reads show none. */
  carrierSync?: CarrierSyncReader
  /** Carrier slugs an external tracking may name (carrier/ knows them); unset: any. */
  knownCarrier?: (slug: string) => boolean
}

export type CreateInput = Omit<NewPackage, 'trackingNumber' | 'carrier' | 'external'> & { trackingNumber?: string; carrier?: string; customerEmail?: string }

/** What a customer's order may not say: we issue the number and the carrier is our fleet, dispatch names the driver, the caller is the owner. */
const SET_FOR_CUSTOMERS = ['trackingNumber', 'carrier', 'driverId', 'customerId', 'customerEmail', 'mergeExternal'] as const


/** Package use cases: reads through the cache, writes through the repository's update closure. */
export class PackageService {
  private readonly now: () => Date
  readonly cache: PackageReadCache

  constructor(private readonly deps: PackageServiceDeps) {
    this.now = deps.clock ?? (() => new Date())
    this.cache = new PackageReadCache(deps.cache, deps.log)
  }

  /**
   * A new package. A number taken by an external tracking is 409 `external_tracking`,
   * unless `mergeExternal` (admins: the caller checks) turns that tracking into this package.
   * `actor`: who the events name (a principal's request: actorOf; otherwise the system).
   */
  async create(named: CreateInput, opts: { mergeExternal?: boolean; actor?: Actor } = {}): Promise<Package> {
    const actor = opts.actor ?? SYSTEM_ACTOR
    const input = await this.withOwner(named)
    const base = { ...input, carrier: input.carrier?.trim() || 'delivertrack' }
    if (input.driverId) await this.assertDriver(input.driverId)
    if (input.customerId) await this.assertCustomer(input.customerId)
    if (input.trackingNumber) {
      const tn = normalizeTrackingNumber(input.trackingNumber)
      try {
        return this.committed(await this.insert(attribute(createPackage({ ...base, trackingNumber: tn }, this.now()), actor), actor))
      } catch (err) {
        if (!(err instanceof AppError && err.kind === 'conflict')) throw err
        const existing = await this.deps.packages.get(tn)
        if (!existing?.external) throw err
        if (!opts.mergeExternal) throw externalTrackingConflict(existing)
        // A driver comes through an assignment (its own row and event), which a merge does not write.
        if (input.driverId) throw invalid('/driverId', 'cannot be set while merging an external tracking; assign a driver with POST /packages/:tn/assignment')
        // The tracking keeps its carrier unless the package names one.
        const { driverId: _driver, trackingNumber: _tn, carrier, ...rest } = input
        const details = carrier?.trim() ? { ...rest, carrier: carrier.trim() } : rest
        return this.committed(await this.deps.packages.update(tn, (pkg) => attribute(mergeExternal(pkg, details, this.now()), actor), this.now()))
      }
    }
    // A generated number colliding is astronomically rare; retry rather than fail.
    for (let attempt = 0; ; attempt++) {
      try {
        return this.committed(await this.insert(attribute(createPackage({ ...base, trackingNumber: generateTrackingNumber() }, this.now()), actor), actor))
      } catch (err) {
        if (!(err instanceof AppError && err.kind === 'conflict') || attempt >= 3) throw err
      }
    }
  }

  /**
   * A customer's order: a package they own, paid later (`paymentStatus` pending), on their tracking list.
   * Fields only we or staff decide are refused by name, all of them at once.
   */
  async placeOrder(principal: Principal, input: CreateInput & { mergeExternal?: boolean }): Promise<Package> {
    if (principal.role !== 'customer' || principal.kind !== 'user') throw forbidden('only customers place orders')
    const refused = SET_FOR_CUSTOMERS.filter((field) => input[field] !== undefined)
    if (refused.length > 0) {
      const details = refused.map((field) => ({ path: `/${field}`, message: 'is set by DeliverTrack, not by a customer' }))
      throw new AppError('invalid', 'validation_failed', `${refused.map((f) => `/${f}`).join(', ')} cannot be set by a customer`, details)
    }
    if (input.paymentStatus !== undefined && input.paymentStatus !== 'pending') {
      throw invalid('/paymentStatus', 'of a new order is pending; staff or the payment integration record the payment')
    }
    const pkg = await this.create({ ...input, customerId: principal.id, paymentStatus: 'pending' }, { actor: actorOf(principal) })
    // On their list (the order history) at once. The order stands without it: failing the
    // request now would make a retry place a second order.
    await this.deps.trackings.add(principal.id, pkg.id, null).catch((err: unknown) => this.deps.log.warn({ err }, 'placed order not added to the tracking list'))
    return pkg
  }

  /** `customerEmail` names the owner by account email instead of `customerId`. */
  private async withOwner(input: CreateInput): Promise<CreateInput> {
    const { customerEmail, ...rest } = input
    if (customerEmail === undefined) return rest
    if (rest.customerId !== undefined) throw invalid('/customerEmail', 'cannot be given with customerId; name the owner once')
    const customerId = await this.deps.packages.customerIdByEmail(customerEmail)
    if (!customerId) throw invalid('/customerEmail', 'is not a customer account')
    return { ...rest, customerId }
  }

  /** Inserts a new package; one naming a driver is offered to them (an assignment, as POST /assignment makes). */
  private async insert(change: Change, actor: Actor): Promise<Written> {
    const driverId = change.next.driverId
    if (!driverId || !this.deps.createOffered) return this.deps.packages.create(change)
    const next = { ...change.next }
    delete next.driverId
    return this.deps.createOffered({ ...change, next }, driverId, actor.id ?? actor.type)
  }

  /**
   * The package as the principal may see it: in full for its owner, staff and its
   * assigned driver; the public view for anyone else who tracks it; otherwise not
   * found (no enumeration).
   */
  async get(principal: Principal, rawTn: string): Promise<PackageRead> {
    const pkg = await this.cache.package(normalizeTrackingNumber(rawTn), (tn) => this.deps.packages.get(tn))
    const read = pkg && (await this.read(principal, pkg))
    if (!read) throw notFound('package')
    // Staff see how a carrier tracking is kept current.
    if (read.view === 'full' && pkg.external && isStaff(principal)) {
      const sync = (await this.syncStates([pkg.id])).get(pkg.id)
      if (sync) return { ...read, sync }
    }
    return read
  }

  /** The whole package, only for who sees it in full (locations, proofs); anyone else gets not found. */
  async getFull(principal: Principal, rawTn: string): Promise<Package> {
    const read = await this.get(principal, rawTn)
    if (read.view !== 'full') throw notFound('package')
    const { view: _view, ...pkg } = read
    return pkg
  }

  /**
   * Staff list all, filtered by owner or driver if they ask; customers the packages they
   * own, drivers their assigned ones (tracked ones are in /me/trackings). A customer or
   * driver filtering by someone else gets an empty page, as the filters are ANDed.
   */
  async list(principal: Principal, filter: Omit<ListFilter, 'trackedBy'>): Promise<Page<Package & { sync?: CarrierSyncState }>> {
    const scope: Pick<ListFilter, 'customerId' | 'driverId'> = {}
    if (principal.role === 'customer') scope.customerId = principal.id
    else if (principal.role === 'driver') scope.driverId = principal.id
    else if (!SEES_ALL.has(principal.role)) throw forbidden()
    for (const field of ['customerId', 'driverId'] as const) {
      if (scope[field] && filter[field] && filter[field] !== scope[field]) return { items: [], nextCursor: null }
    }
    const page = await this.deps.packages.list({ ...filter, ...scope })
    if (!isStaff(principal)) return page
    // One statement for the page's carrier trackings.
    const states = await this.syncStates(page.items.filter((p) => p.external).map((p) => p.id))
    return states.size === 0 ? page : { ...page, items: page.items.map((p) => (states.has(p.id) ? { ...p, sync: states.get(p.id)! } : p)) }
  }

  async patch(principal: Principal, rawTn: string, patch: PackagePatch, ifMatch?: number): Promise<Package> {
    // Drivers are offered packages through assignments (delivery/), which keep driverId.
    if (patch.driverId !== undefined) throw invalid('/driverId', 'cannot be patched; assign a driver with POST /packages/:tn/assignment')
    if (patch.customerId) await this.assertCustomer(patch.customerId)
    const tn = normalizeTrackingNumber(rawTn)
    return this.update(principal, tn, ifMatch, (pkg) => {
      const now = this.now()
      return patchDetails(pkg, patch, now)
    })
  }

  async remove(principal: Principal, rawTn: string, ifMatch?: number): Promise<void> {
    await this.update(principal, normalizeTrackingNumber(rawTn), ifMatch, (pkg) => deletePackage(pkg, this.now()))
  }

  async changeStatus(principal: Principal, rawTn: string, change: StatusChange, ifMatch?: number): Promise<Package> {
    return this.update(principal, normalizeTrackingNumber(rawTn), ifMatch, this.statusDecision(principal, change))
  }

  /**
   * The status route's rules for `principal`, as a decision on the current package
   * that the caller saves: the route through `update`, asynchronous status updates
   * under their own row lock. Throws an AppError to refuse.
   */
  statusDecision(principal: Principal, change: StatusChange): (pkg: Package) => Promise<Change> {
    if (change.force && principal.role !== 'admin') throw forbidden('only admins may force a status change')
    const proofs = change.status === 'delivered' && principal.role === 'driver' ? this.deps.deliveryProofs : undefined
    const actor = actorOf(principal)
    return async (pkg) => {
      if (principal.role === 'driver' && pkg.driverId !== principal.id) throw notFound('package')
      // An integration's updates are for its own packages, never for a number a customer follows at a carrier.
      if (pkg.external && principal.kind === 'service') throw externalTrackingConflict(pkg)
      const decided = changeStatus(pkg, change, this.now())
      if (proofs && !(await proofs.has(pkg.id))) throw new AppError('conflict', 'proof_required', 'a proof of delivery is required first: attach one with POST /packages/:tn/proofs')
      return attribute(decided, actor)
    }
  }

  /**
   * The full event log, for those who see the package in full; trackers read the
   * public view's history instead. Who caused each event is for staff only.
   */
  async events(principal: Principal, rawTn: string): Promise<PackageEvent[]> {
    const pkg = await this.get(principal, rawTn)
    if (pkg.view !== 'full') throw notFound('package')
    const events = await this.deps.packages.events(pkg.id)
    if (seesActor(principal.role)) return events
    return events.map(withoutActor)
  }

  /** The guest view (status history without names, addresses, contacts or coordinates) as JSON text, with its etag. */
  async publicView(rawTn: string): Promise<PublicViewEntry> {
    const tn = normalizeTrackingNumber(rawTn)
    const entry = await this.cache.publicView(tn, async () => {
      const pkg = await this.deps.packages.get(tn)
      if (!pkg) return null
      const lastCheckedAt = pkg.external ? ((await this.syncStates([pkg.id])).get(pkg.id)?.lastCheckedAt ?? null) : undefined
      const body = JSON.stringify(toPublicView(pkg, await this.deps.packages.events(pkg.id), lastCheckedAt))
      return { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` }
    })
    if (!entry) throw notFound('package')
    return entry
  }

  async addTracking(principal: Principal, input: { trackingNumber: string; label?: string; carrier?: string }): Promise<{ entry: TrackingRead; added: boolean }> {
    const tn = normalizeTrackingNumber(input.trackingNumber)
    const label = input.label?.trim() || null
    const userId = userIdOf(principal)
    const slug = input.carrier?.trim()
    // A typo'd slug would be asked about on every schedule and never found: refused before anything is written.
    if (slug && this.deps.knownCarrier && !this.deps.knownCarrier(slug)) throw invalid('/carrier', 'is not a carrier we can track (e.g. ups, dhl, usps, fedex, easyparcel)')
    const pkg = await this.deps.packages.get(tn)
    if (pkg) {
      const { added } = await this.deps.trackings.add(userId, pkg.id, label)
      const entry = await this.deps.trackings.entry(userId, pkg.id)
      if (!entry) throw notFound('package')
      return { entry: await this.entryRead(principal, entry, await this.syncStates(pkg.external ? [pkg.id] : [])), added }
    }
    const carrier = input.carrier?.trim()
    if (!carrier) throw notFound('package')
    try {
      const result = this.committed(await this.deps.trackings.createExternal(userId, attribute(createExternalTracking(tn, carrier, this.now()), actorOf(principal)), label))
      return { entry: await this.entryRead(principal, { trackingNumber: tn, label, addedAt: result.createdAt, package: result }, await this.syncStates([result.id])), added: true }
    } catch (err) {
      // Someone created it a moment ago: track the existing one.
      if (err instanceof AppError && err.kind === 'conflict') return this.addTracking(principal, { ...input, carrier: undefined })
      throw err
    }
  }

  async listTrackings(principal: Principal): Promise<TrackingRead[]> {
    const entries = await this.deps.trackings.list(userIdOf(principal))
    const states = await this.syncStates(entries.filter((e) => e.package.external).map((e) => e.package.id))
    return Promise.all(entries.map((e) => this.entryRead(principal, e, states)))
  }

  async removeTracking(principal: Principal, rawTn: string): Promise<void> {
    const pkg = await this.deps.packages.get(normalizeTrackingNumber(rawTn))
    if (!pkg || !(await this.deps.trackings.remove(userIdOf(principal), pkg.id))) throw notFound('tracking')
  }

  /**
   * The package straight from the database (never the cache), for subscriptions
   * that need its exact current seq. Without a principal: the public view's rule
   * (anyone may follow a number). With one: only who sees it in full; a tracker is
   * refused (forbidden: their channel is track:<tn>), anyone else gets not found.
   */
  async current(principal: Principal | undefined, rawTn: string): Promise<Package> {
    const pkg = await this.deps.packages.get(normalizeTrackingNumber(rawTn))
    if (!pkg) throw notFound('package')
    if (!principal || canReadFull(principal, pkg)) return pkg
    if (principal.kind === 'user' && (await this.deps.trackings.isTracking(principal.id, pkg.id))) {
      throw forbidden(`you see the public view of this package: subscribe to track:${pkg.trackingNumber}`)
    }
    throw notFound('package')
  }

  /** The package as the principal may see it, or null when they may not see it at all. */
  private async read(principal: Principal, pkg: Package): Promise<PackageRead | null> {
    if (canReadFull(principal, pkg)) return { view: 'full', ...pkg }
    if (principal.kind !== 'user' || !(await this.deps.trackings.isTracking(principal.id, pkg.id))) return null
    return { view: 'public', ...(await this.publicViewOf(pkg.trackingNumber)) }
  }

  private async entryRead(principal: Principal, entry: TrackingEntry, states: ReadonlyMap<string, CarrierSyncState>): Promise<TrackingRead> {
    const pkg = entry.package
    const view: PackageRead = canReadFull(principal, pkg) ? { view: 'full', ...pkg } : { view: 'public', ...(await this.publicViewOf(pkg.trackingNumber)) }
    const state = pkg.external ? states.get(pkg.id) : undefined
    return state ? { ...entry, package: view, lastCheckedAt: state.lastCheckedAt } : { ...entry, package: view }
  }

  /** Carrier sync states by package id; a reader that fails leaves them out rather than failing the read. */
  private async syncStates(packageIds: string[]): Promise<Map<string, CarrierSyncState>> {
    if (!this.deps.carrierSync || packageIds.length === 0) return new Map()
    try {
      return await this.deps.carrierSync.read(packageIds, this.now())
    } catch (err) {
      this.deps.log.warn({ err }, 'carrier sync state unavailable')
      return new Map()
    }
  }

  private async publicViewOf(tn: string): Promise<PublicView> {
    return JSON.parse((await this.publicView(tn)).body) as PublicView
  }

  private async update(principal: Principal, tn: string, ifMatch: number | undefined, decide: (pkg: Package) => Change | Promise<Change>): Promise<Package> {
    const actor = actorOf(principal)
    const result = await this.deps.packages.update(tn, async (pkg) => {
      // A driver sees (and may update) only assigned packages; to anyone else it does not exist.
      if (principal.role === 'driver' && pkg.driverId !== principal.id) throw notFound('package')
      if (ifMatch !== undefined && ifMatch !== pkg.version) throw versionMismatch(pkg.version)
      return attribute(await decide(pkg), actor)
    }, this.now())
    return this.committed(result)
  }

  /** After a write made outside this service (delivery's assignments): the cache forgets it, the event path carries its events. */
  committed(result: Written): Package {
    if (result.events.length > 0) {
      this.cache.invalidate(result.pkg.trackingNumber)
      this.deps.events.committed(result.events)
    }
    return result.pkg
  }

  private async assertDriver(id: string): Promise<void> {
    if (!/^[0-9a-f-]{36}$/i.test(id) || !(await this.deps.packages.isDriver(id))) throw invalid('/driverId', 'is not a driver')
  }

  private async assertCustomer(id: string): Promise<void> {
    if (!/^[0-9a-f-]{36}$/i.test(id) || !(await this.deps.packages.isCustomer(id))) throw invalid('/customerId', 'is not a customer account')
  }
}

/** Admins and operators: who see how a carrier tracking is kept current (`sync`). */
const isStaff = (principal: Principal) => principal.role === 'admin' || principal.role === 'operator'

/** Who sees a package in full: staff, its owner and its assigned driver (names, addresses, contacts, coordinates). */
export function canReadFull(principal: Principal, pkg: Package): boolean {
  return SEES_ALL.has(principal.role) || (principal.kind === 'user' && (pkg.customerId === principal.id || pkg.driverId === principal.id))
}

function userIdOf(principal: Principal): string {
  if (principal.kind !== 'user') throw forbidden('tracking lists belong to user accounts')
  return principal.id
}

/** `lastCheckedAt`: carrier trackings only (null: not asked yet); undefined leaves it out. */
export function toPublicView(pkg: Package, events: PackageEvent[], lastCheckedAt?: Date | null): PublicView {
  const history: PublicView['events'] = []
  for (const e of events) {
    if (e.type !== 'package.created' && e.type !== 'package.status_changed') continue
    const item: PublicView['events'][number] = { status: e.data.status as PackageStatus, occurredAt: e.occurredAt.toISOString() }
    if (typeof e.data.note === 'string') item.note = e.data.note
    const city = (e.data.location as { city?: unknown } | undefined)?.city
    if (typeof city === 'string') item.city = city
    history.push(item)
  }
  const view: PublicView = {
    trackingNumber: pkg.trackingNumber,
    status: pkg.status,
    carrier: pkg.carrier,
    estimatedDelivery: pkg.estimatedDelivery?.toISOString() ?? null,
    lastUpdatedAt: pkg.updatedAt.toISOString(),
    events: history,
  }
  return lastCheckedAt === undefined ? view : { ...view, lastCheckedAt: lastCheckedAt?.toISOString() ?? null }
}
