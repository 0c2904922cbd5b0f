import { dayPrefixes, type ArchiveRow } from './domain.js'
import type { ObjectStore, RowCodec } from './ports.js'

export interface ReadRange {
  /** First UTC day, included. */
  from: Date
  /** Last UTC day, included. */
  to: Date
}

/**
 * Every archived row recorded on the days of the range, object by object in key
 * order (so by hour, then by each object's first event id). Objects are fetched
 * one at a time: memory stays bounded by one object.
 */
export async function* readArchive(store: ObjectStore, codec: RowCodec, range: ReadRange): AsyncGenerator<{ key: string; row: ArchiveRow }> {
  for (const prefix of dayPrefixes(range.from, range.to)) {
    for (const key of await store.list(prefix)) {
      if (!key.endsWith('.parquet')) continue
      for (const row of await codec.decode(await store.get(key))) yield { key, row }
    }
  }
}

/** A row as the contract's event envelope plus the archive's derived columns. */
export function rowToJson(row: ArchiveRow): Record<string, unknown> {
  return {
    id: row.id,
    type: row.type,
    trackingNumber: row.trackingNumber,
    seq: row.seq,
    status: row.status,
    lat: row.lat,
    lng: row.lng,
    occurredAt: row.occurredAt.toISOString(),
    recordedAt: row.recordedAt.toISOString(),
    data: row.data,
    ...(row.actor ? { actor: row.actor } : {}),
    ...(row.requestId ? { requestId: row.requestId } : {}),
  }
}
