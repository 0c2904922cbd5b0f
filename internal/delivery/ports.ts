import type { Actor } from '../events/actor.js'
import type { LocationPoint } from '../location/domain.js'
import type { Package } from '../package/domain.js'
import type { Change } from '../package/entity.js'
import type { Written } from '../package/ports.js'
import type { Assignment, AssignmentState, Offer } from './domain.js'

export interface DriverSummary {
  id: string
  name: string
  email: string
  /** Offered or accepted assignments now. */
  activeAssignments: number
  lastLocation?: { lat: number; lng: number; recordedAt: Date }
  lastSeenAt?: Date
  /** On shift (PUT /me/shift): the dispatch service offers work only to these. */
  onShift: boolean
}

/** Whether a driver is on shift, and since when (never set: off shift). */
export interface ShiftState {
  driverId: string
  onShift: boolean
  changedAt: Date
}

/** A package the driver has accepted: where their own position fixes go. */
export interface AcceptedPackage {
  assignmentId: string
  packageId: string
  trackingNumber: string
}

/**
 * Assignments and the package changes they cause, written together: each write is
 * one transaction that locks the package row, so the package's driverId, version
 * and events never disagree with its assignments.
 */
export interface AssignmentRepository {
  /**
   * Lets `decide` check the locked package, cancels its active assignment when the
   * offer replaces it, inserts the offer and writes the package change. A second
   * active assignment is refused by the database (a partial unique index), never by
   * a read first: AppError `already_assigned` with the active one. Not found: not_found.
   */
  offer(trackingNumber: string, replace: boolean, decide: (pkg: Package) => Offer, now: Date): Promise<{ assignment: Assignment; written: Written }>
  /**
   * The driver's active assignment of the package, decided on by `decide` and saved
   * with the package change. No active assignment of this driver: not_found.
   */
  respond(trackingNumber: string, driverId: string, decide: (pkg: Package, current: Assignment) => { assignment: Assignment; change: Change }, now: Date): Promise<{ assignment: Assignment; written: Written }>
  /** Every assignment of the current package with the number, oldest first. */
  history(trackingNumber: string): Promise<Assignment[]>
  /** The driver's assignments (of live packages), newest first, optionally in one state. */
  ofDriver(driverId: string, state?: AssignmentState): Promise<Assignment[]>
  /** The driver's accepted assignments of live packages. */
  accepted(driverId: string): Promise<AcceptedPackage[]>
  /** True when the id is an account with the driver role. */
  isDriver(userId: string): Promise<boolean>
  /** Every driver with their load and last reported position, by name. */
  drivers(): Promise<DriverSummary[]>
  /** Puts the driver on or off shift; `changedAt` moves only when the state does. */
  setShift(driverId: string, onShift: boolean, at: Date): Promise<ShiftState>
  /** Records where the driver is (moves forward only) and that they were seen now. */
  seen(driverId: string, position: { lat: number; lng: number; recordedAt: Date }, at: Date): Promise<void>
}

/** What follows a committed package change: the read cache forgets it, the event path carries its events. Must not throw. */
export type PackageCommitted = (written: Written) => void

/** A driver's fix is a device's point: the same ingest stores both. */
export type LocationFix = LocationPoint

/** The location ingest devices use (location/), fed a driver's fixes for one accepted package. */
export type LocationIngest = (source: AcceptedPackage, points: LocationFix[], actor: Actor) => Promise<{ accepted: number; duplicates: number }>
