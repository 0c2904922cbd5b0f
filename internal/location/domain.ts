import { AppError, type ErrorDetail } from '../platform/errors.js'

/** One position fix from a device. recordedAt is kept to the millisecond. */
export interface LocationPoint {
  lat: number
  lng: number
  recordedAt: Date
  accuracyM?: number
  speedMps?: number
  headingDeg?: number
}

/** A stored point, as history returns it. */
export interface StoredLocation extends LocationPoint {
  deviceId?: string
}

/** A batch from one device for its bound package. */
export interface LocationBatch {
  packageId: string
  trackingNumber: string
  deviceId: string
  points: LocationPoint[]
}

export interface HistoryWindow {
  /** Inclusive lower bound on recordedAt. */
  since?: Date
  /** Exclusive upper bound on recordedAt (pass the oldest recordedAt seen to page back). */
  until?: Date
  limit: number
}

export interface NearbyQuery {
  lat: number
  lng: number
  radiusM: number
  limit: number
}

/** A package's last location within a nearby query's radius. */
export interface NearbyHit {
  packageId: string
  trackingNumber: string
  lat: number
  lng: number
  recordedAt: Date
  distanceM: number
}

export const MAX_POINTS = 1000
/** Device clocks drift: a point may be this far ahead of ours, no more. */
export const FUTURE_SLACK_MS = 5 * 60_000
const MAX_DETAILS = 20

/**
 * Checks what the request schema cannot: no point more than FUTURE_SLACK_MS
 * ahead of `now`. Throws validation_failed naming every such point (up to 20).
 */
export function checkPoints(points: readonly LocationPoint[], now: Date): void {
  const limit = now.getTime() + FUTURE_SLACK_MS
  const details: ErrorDetail[] = []
  points.forEach((p, i) => {
    if (Number.isNaN(p.recordedAt.getTime())) details.push({ path: `/points/${i}/recordedAt`, message: 'is not a valid time' })
    else if (p.recordedAt.getTime() > limit) details.push({ path: `/points/${i}/recordedAt`, message: 'is more than 5 minutes in the future' })
  })
  if (details.length > 0) {
    const first = details[0]!
    throw new AppError('invalid', 'validation_failed', `${first.path} ${first.message}`, details.slice(0, MAX_DETAILS))
  }
}

/** The point with the latest recordedAt (the last one wins a tie). */
export function newest<T extends LocationPoint>(points: readonly T[]): T {
  let best = points[0]!
  for (const p of points) if (p.recordedAt.getTime() >= best.recordedAt.getTime()) best = p
  return best
}

/** The live event's data for a point: coordinates plus what the device measured. */
export function liveData(point: LocationPoint, deviceId: string): Record<string, unknown> {
  const data: Record<string, unknown> = { lat: point.lat, lng: point.lng, recordedAt: point.recordedAt.toISOString() }
  if (point.accuracyM !== undefined) data.accuracyM = point.accuracyM
  if (point.speedMps !== undefined) data.speedMps = point.speedMps
  if (point.headingDeg !== undefined) data.headingDeg = point.headingDeg
  data.deviceId = deviceId
  return data
}
