import type { PackageStatus } from '../package/domain.js'

/** The schedule's knobs, in minutes (the contract's TRACKING_*_FREQ). */
export interface FrequencySettings {
  preShipmentMin: number
  inTransitMin: number
  outForDeliveryMin: number
  exceptionMin: number
  /**
   * The safety-net interval of a tracking its provider pushes to us (TRACKING_PUSHED_FREQ):
   * each change arrives by push, so polling only looks for a push that went missing. 0: off.
   */
  pushedMin: number
}

export const DEFAULT_FREQUENCY: Readonly<FrequencySettings> = { preShipmentMin: 1440, inTransitMin: 120, outForDeliveryMin: 30, exceptionMin: 60, pushedMin: 1440 }

/** Whether a moment falls on a public holiday (date-holidays in holidays.ts; none when unset). */
export interface HolidayCalendar {
  isHoliday(at: Date): boolean
}

/** The cap on the estimated delivery day: customers watch most closely then. */
export const DELIVERY_DAY_MAX_MIN = 30
/** Back-off doubles per failure in a row, up to x16. */
export const MAX_FAILURE_FACTOR = 16
export const QUIET_DAY_FACTOR = 1.5
/** ±10 %: thousands of trackings added together spread out instead of falling due in one second. */
export const JITTER = 0.1

export interface NextCheckInput {
  status: PackageStatus
  /** RFC 3339. */
  estimatedDelivery?: string
  consecutiveFailures: number
  now: Date
  settings: FrequencySettings
  holidays?: HolidayCalendar
  /** The provider pushes this tracking's updates (pushFed below). */
  pushFed?: boolean
  /** In [0, 1); injected so tests are exact. */
  random: () => number
}

/**
 * Whether a tracking counts as fed by pushes: one arrived within twice the pushed
 * interval, so a safety-net check that finds nothing new keeps it so. A check that
 * finds news the pushes did not bring clears the mark (the store does), and the
 * status schedule applies again until the next push.
 */
export function pushFed(lastPushedAt: Date | undefined, now: Date, s: FrequencySettings): boolean {
  return s.pushedMin > 0 && lastPushedAt !== undefined && now.getTime() - lastPushedAt.getTime() <= 2 * s.pushedMin * 60_000
}

/**
 * The failure-free interval in minutes, the one "overdue by more than twice its
 * interval" is measured against (a push-fed tracking is not overdue between pushes).
 */
export function intervalMinutes(status: PackageStatus, s: FrequencySettings, fed: boolean): number | null {
  const base = baseMinutes(status, s)
  return base === null ? null : fed ? Math.max(base, s.pushedMin) : base
}

/** The base interval of a status; null for final statuses, which are never asked about again. */
export function baseMinutes(status: PackageStatus, s: FrequencySettings): number | null {
  switch (status) {
    case 'pending':
    case 'info_received':
      return s.preShipmentMin
    case 'in_transit':
    case 'available_for_pickup':
      return s.inTransitMin
    case 'out_for_delivery':
      return s.outForDeliveryMin
    case 'failed_attempt':
    case 'exception':
      return s.exceptionMin
    case 'delivered':
    case 'returned':
    case 'cancelled':
    case 'expired':
      return null
  }
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10)

/**
 * Minutes until a tracking should next be asked about, or null when never
 * (final statuses). In order: the status's base; x1.5 on a weekend (UTC) or a
 * holiday, when carriers scan little; at most 30 min on the estimated delivery day
 * (UTC); at least the pushed interval when the provider pushes its updates;
 * doubled per consecutive failure, up to x16, so a failing provider is left
 * alone; then ±10 % jitter. Rounded to whole seconds, never below one minute.
 */
export function nextCheckIn(input: NextCheckInput): number | null {
  const base = baseMinutes(input.status, input.settings)
  if (base === null) return null
  let minutes = base
  const day = input.now.getUTCDay()
  if (day === 0 || day === 6 || input.holidays?.isHoliday(input.now)) minutes *= QUIET_DAY_FACTOR
  if (input.estimatedDelivery) {
    const eta = new Date(input.estimatedDelivery)
    if (!Number.isNaN(eta.getTime()) && utcDay(eta) === utcDay(input.now)) minutes = Math.min(minutes, DELIVERY_DAY_MAX_MIN)
  }
  if (input.pushFed && input.settings.pushedMin > 0) minutes = Math.max(minutes, input.settings.pushedMin)
  const failures = Math.max(0, Math.floor(input.consecutiveFailures))
  minutes *= Math.min(2 ** Math.min(failures, 30), MAX_FAILURE_FACTOR)
  minutes *= 1 + (input.random() * 2 - 1) * JITTER
  return Math.max(1, Math.round(minutes * 60) / 60)
}
