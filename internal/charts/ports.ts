import type { DayCounts, Deltas, LoggedEvent, PackageState } from './domain.js'

/** Counts a package's events into `deltas`; returns the package's state after them. */
export type Fold = (state: PackageState, events: readonly LoggedEvent[], deltas: Deltas) => PackageState

/** `counted`: the event (and any earlier one not yet counted) is in the aggregates now; `duplicate`: it already was; `unknown`: the log does not hold it. */
export type CountResult = 'counted' | 'duplicate' | 'unknown'

/** The aggregates' writer. */
export interface MetricsStore {
  /**
   * Counts the logged event `eventId` and every earlier one of its package not yet
   * counted, in seq order, in one transaction with the package's counted seq: a
   * redelivered event counts once, one delivered out of order counts its
   * predecessors first, and a crash before commit counts nothing.
   */
  countThrough(eventId: string, fold: Fold): Promise<CountResult>
  /** Replaces every aggregate with the fold of the whole event log, in one transaction. */
  rebuild(fold: Fold): Promise<{ packages: number; events: number }>
}

export interface DayRow extends DayCounts {
  day: string
}

export interface DriverRow {
  driverId: string
  name: string | null
  delivered: number
  deliveredEstimated: number
  deliveredOnTime: number
  medianAcceptToDeliveredS: number | null
}

/** The aggregates' reader: both reads touch only the aggregate tables (and users for names). */
export interface MetricsReader {
  /** One row per day from `from` to `to` inclusive (YYYY-MM-DD), zeros where nothing happened. */
  ordersByDay(from: string, to: string): Promise<DayRow[]>
  /** Drivers with a delivery in the range, most deliveries first. */
  drivers(from: string, to: string): Promise<DriverRow[]>
}
