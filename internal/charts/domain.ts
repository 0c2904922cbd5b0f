/** What the metrics remember of one package between its events. */
export interface PackageState {
  /** The last seq counted into the aggregates. */
  countedSeq: number
  /** A carrier tracking a customer follows, not an order of ours: never counted. */
  external: boolean
  /** UTC day (YYYY-MM-DD) the package is due, if it has an estimate. */
  estimatedDay: string | null
  driverId: string | null
  acceptedAt: Date | null
}

export const NEW_PACKAGE: PackageState = { countedSeq: 0, external: false, estimatedDay: null, driverId: null, acceptedAt: null }

/** A durable event as the log holds it. */
export interface LoggedEvent {
  seq: number
  type: string
  occurredAt: Date
  data: Record<string, unknown>
}

export interface DayCounts {
  created: number
  delivered: number
  failedAttempts: number
  exceptions: number
  deliveredEstimated: number
  deliveredOnTime: number
}

export interface DriverDayCounts {
  delivered: number
  deliveredEstimated: number
  deliveredOnTime: number
  acceptToDeliveredS: number[]
}

/** What a run of events adds to the aggregates, keyed by day and by driver-day. */
export class Deltas {
  readonly days = new Map<string, DayCounts>()
  readonly driverDays = new Map<string, DriverDayCounts & { driverId: string; day: string }>()

  day(day: string): DayCounts {
    let d = this.days.get(day)
    if (!d) this.days.set(day, (d = { created: 0, delivered: 0, failedAttempts: 0, exceptions: 0, deliveredEstimated: 0, deliveredOnTime: 0 }))
    return d
  }

  driverDay(driverId: string, day: string): DriverDayCounts {
    const key = `${driverId}|${day}`
    let d = this.driverDays.get(key)
    if (!d) this.driverDays.set(key, (d = { driverId, day, delivered: 0, deliveredEstimated: 0, deliveredOnTime: 0, acceptToDeliveredS: [] }))
    return d
  }

  get empty(): boolean {
    return this.days.size === 0 && this.driverDays.size === 0
  }
}

/** The UTC day of an instant, YYYY-MM-DD. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10)

function dayOfValue(value: unknown): string | null {
  if (typeof value !== 'string' && !(value instanceof Date)) return null
  const at = new Date(value)
  return Number.isNaN(at.getTime()) ? null : utcDay(at)
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/**
 * Folds one package's events, in seq order and each after `state.countedSeq`, into
 * `deltas`; returns the state after the last one. The live role and the rebuild
 * both count through here, so they cannot disagree.
 */
export function foldEvents(state: PackageState, events: readonly LoggedEvent[], deltas: Deltas): PackageState {
  let s = { ...state }
  for (const e of events) {
    if (e.seq <= s.countedSeq) continue
    s = foldOne(s, e, deltas)
    s.countedSeq = e.seq
  }
  return s
}

function foldOne(s: PackageState, e: LoggedEvent, deltas: Deltas): PackageState {
  const day = utcDay(e.occurredAt)
  switch (e.type) {
    case 'package.created':
      s.external = e.data.external === true
      s.estimatedDay = dayOfValue(e.data.estimatedDelivery)
      if (!s.external) deltas.day(day).created++
      return s
    case 'package.updated': {
      const changes = (e.data.changes ?? {}) as Record<string, unknown>
      if ('estimatedDelivery' in changes) s.estimatedDay = dayOfValue(changes.estimatedDelivery)
      // An admin's merge turns a followed carrier number into our order: it is created now.
      if (e.data.mergedExternal === true && s.external) {
        s.external = false
        deltas.day(day).created++
      }
      return s
    }
    case 'package.assigned':
      s.driverId = str(e.data.driverId)
      s.acceptedAt = null
      return s
    case 'package.assignment_accepted':
      s.driverId = str(e.data.driverId) ?? s.driverId
      s.acceptedAt = e.occurredAt
      return s
    case 'package.assignment_declined':
    case 'package.assignment_cancelled':
      s.driverId = null
      s.acceptedAt = null
      return s
    case 'package.status_changed':
      if (!s.external) countStatus(s, e, day, deltas)
      return s
    default:
      return s
  }
}

function countStatus(s: PackageState, e: LoggedEvent, day: string, deltas: Deltas): void {
  const totals = deltas.day(day)
  if (e.data.status === 'failed_attempt') totals.failedAttempts++
  else if (e.data.status === 'exception') totals.exceptions++
  if (e.data.status !== 'delivered') return
  const onTime = s.estimatedDay !== null && day <= s.estimatedDay
  totals.delivered++
  if (s.estimatedDay !== null) totals.deliveredEstimated++
  if (onTime) totals.deliveredOnTime++
  if (!s.driverId) return
  const driver = deltas.driverDay(s.driverId, day)
  driver.delivered++
  if (s.estimatedDay !== null) driver.deliveredEstimated++
  if (onTime) driver.deliveredOnTime++
  if (s.acceptedAt) driver.acceptToDeliveredS.push(Math.max(0, Math.round((e.occurredAt.getTime() - s.acceptedAt.getTime()) / 1000)))
}

/** On-time share of the deliveries that had an estimate; null when none had one. */
export const onTimeRate = (onTime: number, estimated: number): number | null => (estimated === 0 ? null : onTime / estimated)

/** The longest range the charts answer, in days (a leap year). */
export const MAX_RANGE_DAYS = 366
