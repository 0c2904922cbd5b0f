import type { Principal } from '../auth/domain.js'
import type { GeoPoint, PackageStatus } from '../package/domain.js'

/**
 * Who dispatch's offers name (`assignedBy`, the event's actor): a service of the
 * cluster, not a user or a client with credentials.
 */
export const DISPATCH_PRINCIPAL: Principal = Object.freeze({ id: 'dispatch', role: 'service', kind: 'service', name: 'dispatch' })

/** The carrier of DeliverTrack's own drivers; any other carrier delivers the package itself. */
export const OWN_FLEET_CARRIER = 'delivertrack'

/** A driver dispatch may offer a package to: on shift and not passed over for it. */
export interface Candidate {
  driverId: string
  /** Offered or accepted assignments now. */
  active: number
  /** Last reported position (POST /me/locations); unknown counts as farthest. */
  position?: { lat: number; lng: number }
}

/** What dispatch decides on: the package now, with its active assignment if any. */
export interface PackageView {
  packageId: string
  trackingNumber: string
  status: PackageStatus
  carrier: string
  external: boolean
  origin?: GeoPoint
  version: number
  /** Deleted: dispatch lets it go. */
  deleted: boolean
  active?: { id: string; driverId: string; state: 'offered' | 'accepted'; assignedBy: string; assignedAt: Date }
}

/** Packages dispatch offers: DeliverTrack's own, not an external carrier's or an external tracking. */
export function isOwnFleet(pkg: Pick<PackageView, 'carrier' | 'external'>): boolean {
  return !pkg.external && pkg.carrier === OWN_FLEET_CARRIER
}

const EARTH_RADIUS_M = 6_371_008.8
const rad = (deg: number) => (deg * Math.PI) / 180

/** Great-circle distance in metres (haversine). */
export function distanceM(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lng - a.lng) / 2) ** 2
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)))
}

/**
 * The contract's rule: fewest active assignments; on a tie the nearest to the
 * package's origin (no position, or no origin: after those with one); then the
 * driver id, so two dispatchers deciding alike pick alike.
 */
export function pickDriver(candidates: readonly Candidate[], origin: { lat: number; lng: number } | undefined): Candidate | undefined {
  const far = Number.POSITIVE_INFINITY
  const distance = (c: Candidate) => (origin && c.position ? distanceM(origin, c.position) : far)
  return [...candidates].sort((a, b) => a.active - b.active || distance(a) - distance(b) || (a.driverId < b.driverId ? -1 : a.driverId > b.driverId ? 1 : 0))[0]
}

/** Where dispatch's offering of one package stands (its own table). */
export interface DispatchRecord {
  packageId: string
  trackingNumber: string
  state: 'open' | 'offered' | 'waiting' | 'closed'
  assignmentId?: string
  driverId?: string
  offeredAt?: Date
}

/** Why dispatch stopped offering a package. */
export type CloseReason = 'accepted' | 'taken' | 'final' | 'deleted' | 'not_own_fleet'

export type PassReason = 'declined' | 'timeout'
