import type { EventEnvelope } from '../events/envelope.js'
import { PermanentError } from '../events/roles.js'

/** Where archived events live in the bucket: `delivery_events/YYYY/MM/DD/<HH>-<first event id>.parquet`. */
export const ARCHIVE_PREFIX = 'delivery_events'

/** One Parquet row: one event, typed columns. */
export interface ArchiveRow {
  id: string
  type: string
  trackingNumber: string
  seq: number | null
  /** The status the event moved to (status_changed, created), else null. */
  status: string | null
  lat: number | null
  lng: number | null
  occurredAt: Date
  recordedAt: Date
  data: Record<string, unknown>
  /** Who caused it (the envelope's `actor`); null for events recorded before actors were. */
  actor: Record<string, unknown> | null
  /** The request that caused it (the envelope's `requestId`), when one did. */
  requestId: string | null
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The row of an event; PermanentError when the envelope can never be archived. */
export function toRow(e: EventEnvelope): ArchiveRow {
  if (!UUID.test(e.id)) throw new PermanentError(`event id "${e.id}" is not a uuid`)
  const occurredAt = new Date(e.occurredAt)
  const recordedAt = new Date(e.recordedAt)
  if (Number.isNaN(occurredAt.getTime()) || Number.isNaN(recordedAt.getTime())) throw new PermanentError(`event ${e.id} has an invalid timestamp`)
  const data = e.data && typeof e.data === 'object' ? e.data : {}
  // status_changed carries `location`, live location events carry lat/lng at the top.
  const where = (typeof data.location === 'object' && data.location !== null ? data.location : data) as { lat?: unknown; lng?: unknown }
  return {
    id: e.id.toLowerCase(),
    type: e.type,
    trackingNumber: e.trackingNumber,
    seq: typeof e.seq === 'number' ? e.seq : null,
    status: typeof data.status === 'string' ? data.status : null,
    lat: typeof where.lat === 'number' ? where.lat : null,
    lng: typeof where.lng === 'number' ? where.lng : null,
    occurredAt,
    recordedAt,
    data,
    actor: e.actor && typeof e.actor === 'object' ? { ...e.actor } : null,
    requestId: typeof e.requestId === 'string' ? e.requestId : null,
  }
}

const pad = (n: number) => String(n).padStart(2, '0')

/** `YYYY/MM/DD` of a UTC day. */
export const dayPath = (d: Date) => `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`

/**
 * The object of a group of rows of one hour (by `recordedAt`, UTC): named after
 * its first event, so the same batch always lands on the same key.
 */
export function objectKey(first: ArchiveRow, suffix = ''): string {
  return `${ARCHIVE_PREFIX}/${dayPath(first.recordedAt)}/${pad(first.recordedAt.getUTCHours())}-${first.id}${suffix}.parquet`
}

/** Rows grouped by the UTC hour they were recorded in, each group in arrival order. */
export function groupByHour(rows: ArchiveRow[]): ArchiveRow[][] {
  const groups = new Map<number, ArchiveRow[]>()
  for (const row of rows) {
    const hour = Math.floor(row.recordedAt.getTime() / 3_600_000)
    const group = groups.get(hour)
    if (group) group.push(row)
    else groups.set(hour, [row])
  }
  return [...groups.values()]
}

/** The day prefixes (`delivery_events/YYYY/MM/DD/`) from `from` to `to`, both included. */
export function dayPrefixes(from: Date, to: Date): string[] {
  const out: string[] = []
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()))
  for (; day <= to && out.length < 3660; day.setUTCDate(day.getUTCDate() + 1)) out.push(`${ARCHIVE_PREFIX}/${dayPath(day)}/`)
  return out
}
