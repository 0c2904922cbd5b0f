import { createRequire } from 'node:module'
import { parquetReadObjects } from 'hyparquet'
import type { SchemaElement } from 'hyparquet-writer'
import type { ArchiveRow } from './domain.js'
import type { RowCodec } from './ports.js'

// Loaded with require(esm) where the runtime has it (Node >= 20.19): hyparquet-writer
// imports `hyparquet/src/*.js` through an exports pattern that tap's ts-node ESM
// resolver cannot resolve; Node's own resolver can. Older runtimes import it.
const { parquetWriteBuffer } = await (async (): Promise<typeof import('hyparquet-writer')> => {
  try {
    return createRequire(import.meta.url)('hyparquet-writer') as typeof import('hyparquet-writer')
  } catch {
    return import('hyparquet-writer')
  }
})()

const TIMESTAMP = { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } } as const
const STRING = { type: 'BYTE_ARRAY', converted_type: 'UTF8' } as const

/**
 * The archive's Parquet schema: one row per event. `id` is a plain string (every
 * engine reads it; the UUID logical type is not), timestamps are UTC millis with
 * the TIMESTAMP logical type, `data` and `actor` are JSON text with the JSON logical
 * type. `actor` and `request_id` came later: files written before them lack the
 * columns (read as null).
 */
export const ARCHIVE_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 12 },
  { name: 'id', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'type', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'tracking_number', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'seq', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'status', ...STRING, repetition_type: 'OPTIONAL' },
  { name: 'lat', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  { name: 'lng', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  { name: 'occurred_at', ...TIMESTAMP, repetition_type: 'REQUIRED' },
  { name: 'recorded_at', ...TIMESTAMP, repetition_type: 'REQUIRED' },
  { name: 'data', type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' }, repetition_type: 'REQUIRED' },
  { name: 'actor', type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' }, repetition_type: 'OPTIONAL' },
  { name: 'request_id', ...STRING, repetition_type: 'OPTIONAL' },
] as SchemaElement[]

export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet'

/** hyparquet-writer (pure JS, snappy); read back with hyparquet. */
export class ParquetCodec implements RowCodec {
  encode(rows: ArchiveRow[]): Uint8Array {
    const col = <T>(f: (r: ArchiveRow) => T) => rows.map(f)
    const buffer = parquetWriteBuffer({
      schema: ARCHIVE_SCHEMA,
      columnData: [
        // Ids and payloads neither repeat nor sort usefully: no dictionary, no min/max.
        { name: 'id', data: col((r) => r.id), encoding: 'PLAIN', statistics: false },
        { name: 'type', data: col((r) => r.type) },
        { name: 'tracking_number', data: col((r) => r.trackingNumber) },
        { name: 'seq', data: col((r) => (r.seq === null ? null : BigInt(r.seq))) },
        { name: 'status', data: col((r) => r.status) },
        { name: 'lat', data: col((r) => r.lat) },
        { name: 'lng', data: col((r) => r.lng) },
        { name: 'occurred_at', data: col((r) => r.occurredAt) },
        { name: 'recorded_at', data: col((r) => r.recordedAt) },
        { name: 'data', data: col((r) => r.data), encoding: 'PLAIN', statistics: false },
        { name: 'actor', data: col((r) => r.actor), statistics: false },
        { name: 'request_id', data: col((r) => r.requestId), encoding: 'PLAIN', statistics: false },
      ],
      rowGroupSize: Math.max(rows.length, 1),
      createdBy: 'delivertrack archive',
    })
    return new Uint8Array(buffer)
  }

  async decode(body: Uint8Array): Promise<ArchiveRow[]> {
    const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer
    const objects = (await parquetReadObjects({ file })) as Array<Record<string, unknown>>
    return objects.map((o) => ({
      id: o.id as string,
      type: o.type as string,
      trackingNumber: o.tracking_number as string,
      seq: o.seq === null || o.seq === undefined ? null : Number(o.seq),
      status: (o.status as string | null) ?? null,
      lat: (o.lat as number | null) ?? null,
      lng: (o.lng as number | null) ?? null,
      occurredAt: o.occurred_at as Date,
      recordedAt: o.recorded_at as Date,
      data: (typeof o.data === 'string' ? JSON.parse(o.data) : o.data) as Record<string, unknown>,
      actor: o.actor === null || o.actor === undefined ? null : ((typeof o.actor === 'string' ? JSON.parse(o.actor) : o.actor) as Record<string, unknown>),
      requestId: (o.request_id as string | null | undefined) ?? null,
    }))
  }
}
