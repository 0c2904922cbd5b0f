import { invalid } from '../platform/errors.js'
import { MAX_RANGE_DAYS, onTimeRate } from './domain.js'
import type { MetricsReader } from './ports.js'

export interface DayPoint {
  day: string
  created: number
  delivered: number
  failedAttempts: number
  exceptions: number
  onTimeRate: number | null
}

export interface DriverPoint {
  driverId: string
  name: string | null
  delivered: number
  medianAcceptToDeliveredS: number | null
  onTimeRate: number | null
}

const DAY_MS = 86_400_000

/** The chart reads: a checked day range over the aggregates. */
export class ChartsService {
  constructor(private readonly deps: { reader: MetricsReader }) {}

  async ordersByDay(from: string, to: string): Promise<DayPoint[]> {
    checkRange(from, to)
    const rows = await this.deps.reader.ordersByDay(from, to)
    return rows.map((r) => ({
      day: r.day,
      created: r.created,
      delivered: r.delivered,
      failedAttempts: r.failedAttempts,
      exceptions: r.exceptions,
      onTimeRate: onTimeRate(r.deliveredOnTime, r.deliveredEstimated),
    }))
  }

  async drivers(from: string, to: string): Promise<DriverPoint[]> {
    checkRange(from, to)
    const rows = await this.deps.reader.drivers(from, to)
    return rows.map((r) => ({
      driverId: r.driverId,
      name: r.name,
      delivered: r.delivered,
      medianAcceptToDeliveredS: r.medianAcceptToDeliveredS,
      onTimeRate: onTimeRate(r.deliveredOnTime, r.deliveredEstimated),
    }))
  }
}

/** A real calendar day (2026-02-30 is refused, not rolled over). */
function parseDay(field: 'from' | 'to', value: string): number {
  const at = Date.parse(`${value}T00:00:00Z`)
  if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== value) throw invalid(`/query/${field}`, 'must be a calendar day YYYY-MM-DD')
  return at
}

function checkRange(from: string, to: string): void {
  const days = (parseDay('to', to) - parseDay('from', from)) / DAY_MS + 1
  if (days < 1) throw invalid('/query/to', 'must not be before from')
  if (days > MAX_RANGE_DAYS) throw invalid('/query/to', `must make a range of at most ${MAX_RANGE_DAYS} days, from and to included (this one has ${days})`)
}
