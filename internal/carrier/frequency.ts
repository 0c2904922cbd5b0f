import type { PackageStatus } from '../package/domain.js'

/** The schedule's knobs, in minutes (the contract's TRACKING_*_FREQ). */
export interface FrequencySettings {
  preShipmentMin: number
  inTransitMin: number
  outForDeliveryMin: number
  exceptionMin: number
}

export const DEFAULT_FREQUENCY: Readonly<FrequencySettings> = { preShipmentMin: 1440, inTransitMin: 120, outForDeliveryMin: 30, exceptionMin: 60 }

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
  /** In [0, 1); injected so tests are exact. */
  random: () => number
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
 * (UTC); doubled per consecutive failure, up to x16, so a failing provider is
 * left alone; then ±10 % jitter. Rounded to whole seconds, never below one minute.
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
  const failures = Math.max(0, Math.floor(input.consecutiveFailures))
  minutes *= Math.min(2 ** Math.min(failures, 30), MAX_FAILURE_FACTOR)
  minutes *= 1 + (input.random() * 2 - 1) * JITTER
  return Math.max(1, Math.round(minutes * 60) / 60)
}
