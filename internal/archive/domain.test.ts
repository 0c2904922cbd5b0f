import { randomUUID } from 'node:crypto'
import t from 'tap'
import { PermanentError } from '../events/roles.js'
import { dayPrefixes, groupByHour, objectKey, toRow } from './domain.js'
import { ParquetCodec } from './parquet.js'

const envelope = (over: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  type: 'package.status_changed' as const,
  trackingNumber: 'DT0000000001X',
  seq: 3,
  occurredAt: '2026-11-23T09:15:00.123Z',
  recordedAt: '2026-11-23T10:59:59.999Z',
  data: { status: 'in_transit', previousStatus: 'pending', location: { lat: 52.52, lng: 13.4, city: 'Berlin' } },
  ...over,
})

t.test('a row takes its status and coordinates from the event data', async (t) => {
  const row = toRow(envelope())
  t.match(row, { type: 'package.status_changed', seq: 3, status: 'in_transit', lat: 52.52, lng: 13.4 })
  t.same(row.recordedAt, new Date('2026-11-23T10:59:59.999Z'))
  t.match(toRow(envelope({ type: 'package.location', seq: undefined, data: { lat: 1.5, lng: -2.25, recordedAt: 'x' } })), { seq: null, status: null, lat: 1.5, lng: -2.25 })
  t.match(toRow(envelope({ type: 'package.updated', data: { changes: {} } })), { status: null, lat: null, lng: null })
  t.throws(() => toRow(envelope({ id: 'nope' })), PermanentError)
  t.throws(() => toRow(envelope({ occurredAt: 'yesterday' })), PermanentError)
})

t.test('objects are named after the hour and the first event', async (t) => {
  const row = toRow(envelope({ id: '0b7e3d8e-4c1a-4f7e-9d55-5c0f2b7b7a01' }))
  t.equal(objectKey(row), 'delivery_events/2026/11/23/10-0b7e3d8e-4c1a-4f7e-9d55-5c0f2b7b7a01.parquet')
  t.equal(objectKey(row, '-2'), 'delivery_events/2026/11/23/10-0b7e3d8e-4c1a-4f7e-9d55-5c0f2b7b7a01-2.parquet')
  const rows = ['2026-11-23T10:59:59.999Z', '2026-11-23T11:00:00.000Z', '2026-11-23T10:00:00.000Z'].map((recordedAt) => toRow(envelope({ recordedAt })))
  t.same(groupByHour(rows), [[rows[0], rows[2]], [rows[1]]], 'by UTC hour, arrival order kept')
})

t.test('day prefixes cover the range, both ends included', async (t) => {
  t.same(dayPrefixes(new Date('2026-11-29T00:00:00Z'), new Date('2026-12-01T00:00:00Z')), [
    'delivery_events/2026/11/29/',
    'delivery_events/2026/11/30/',
    'delivery_events/2026/12/01/',
  ])
  t.same(dayPrefixes(new Date('2026-12-02T00:00:00Z'), new Date('2026-12-01T00:00:00Z')), [])
})

t.test('Parquet round trip keeps every value and type', async (t) => {
  const codec = new ParquetCodec()
  const actor = { type: 'user', id: randomUUID(), role: 'admin', name: 'Dana' }
  const rows = [toRow(envelope()), toRow(envelope({ type: 'package.created', seq: 1, data: { status: 'pending', carrier: 'dhl', note: 'ünïcødé ✓' }, actor }))]
  t.same(rows.map((r) => r.actor), [null, actor], 'who caused it is a JSON column; older events have none')
  const body = codec.encode(rows)
  t.equal(new TextDecoder().decode(body.subarray(0, 4)), 'PAR1')
  t.same(await codec.decode(body), rows)
})
