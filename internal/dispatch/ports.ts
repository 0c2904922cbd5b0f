import type { Assignment } from '../delivery/domain.js'
import type { Candidate, CloseReason, DispatchRecord, PackageView, PassReason } from './domain.js'

/**
 * Dispatch's own bookkeeping (its own schema) and its reads of the shared tables.
 * Every write is idempotent, because an event may be handled twice (at-least-once).
 */
export interface DispatchStore {
  /** The package as it stands now, with its active assignment; null when no such package. */
  view(trackingNumber: string): Promise<PackageView | null>
  /** Drivers on shift, not passed over for the package, with their load and position. */
  candidates(packageId: string): Promise<Candidate[]>
  /** The record of the package, created `open` when there is none. */
  take(packageId: string, trackingNumber: string, at: Date): Promise<DispatchRecord>
  /** The record whose offer is this assignment, if dispatch made it. */
  byAssignment(assignmentId: string): Promise<DispatchRecord | null>
  offered(packageId: string, assignment: Pick<Assignment, 'id' | 'driverId' | 'assignedAt'>, at: Date): Promise<void>
  waiting(packageId: string, at: Date): Promise<void>
  closed(packageId: string, reason: CloseReason, at: Date): Promise<void>
  /** Never offer the package to this driver again (a repeat changes nothing). */
  passOver(packageId: string, driverId: string, reason: PassReason, at: Date): Promise<void>
  /**
   * Offers made at or before `before` still waiting for an answer, packages waiting
   * for a driver, and packages taken on before `before` but never offered (their
   * event was dead-lettered); least recently touched first.
   */
  due(before: Date, limit: number): Promise<DispatchRecord[]>
}
