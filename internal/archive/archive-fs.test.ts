import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../config/config.js'
import { isolate } from '../platform/testing/harness.js'
import type { EventEnvelope } from '../events/envelope.js'
import { toRow } from './domain.js'
import { FileObjectStore } from './fs.js'
import { ParquetCodec } from './parquet.js'
import { PostgresArchiveLedger } from './postgres.js'
import { readArchive } from './reader.js'
import { ArchiveService } from './service.js'

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined }

const event = (recordedAt: string, i: number): EventEnvelope => ({
  id: randomUUID(),
  type: i % 2 ? 'package.status_changed' : 'package.location',
  trackingNumber: `DT${String(i).padStart(10, '0')}X`,
  seq: i,
  occurredAt: new Date(Date.parse(recordedAt) - 1500).toISOString(),
  recordedAt,
  data: i % 2 ? { status: 'in_transit', location: { lat: 52.5 + i / 100, lng: 13.4 } } : { lat: -33.9, lng: 18.4 + i / 100 },
})

t.test('the archive on files: events in, Parquet files at the bucket\'s key layout, the same rows read back', async (t) => {
  const { pool } = await isolate(t)
  const dir = await mkdtemp(join(tmpdir(), 'archive-service-fs-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const config = loadConfig({ DATA_DIR: dir })
  const archive = () => new ArchiveService({ store: FileObjectStore.fromConfig(config), ledger: new PostgresArchiveLedger(pool), codec: new ParquetCodec(), batchSize: 100, batchAgeMs: 3_600_000, retentionMs: 3_600_000, log: silent })
  const service = archive()
  t.teardown(() => service.close())

  const nine = ['2024-06-01T09:00:00.000Z', '2024-06-01T09:30:00.250Z', '2024-06-01T09:59:59.999Z'].map(event)
  const ten = ['2024-06-01T10:00:00.000Z', '2024-06-01T10:15:00.001Z'].map((at, i) => event(at, i + 3))
  const nextDay = [event('2024-06-02T00:00:01.000Z', 5)]
  const events = [...nine, ...ten, ...nextDay]
  const handled = events.map((e) => service.handle({ event: e, attempt: 1, final: false }))
  await service.flush()
  await Promise.all(handled)

  const files = (await readdir(join(dir, 'archive'), { recursive: true })).filter((f) => f.endsWith('.parquet')).sort()
  t.same(files, [`delivery_events/2024/06/01/09-${nine[0]!.id}.parquet`, `delivery_events/2024/06/01/10-${ten[0]!.id}.parquet`, `delivery_events/2024/06/02/00-${nextDay[0]!.id}.parquet`].map((f) => join(...f.split('/'))), 'one file per hour, named after its first event')

  // archive:read's reader, on a store opened afresh (as after a restart).
  const read = []
  for await (const r of readArchive(FileObjectStore.fromConfig(config), new ParquetCodec(), { from: new Date('2024-06-01'), to: new Date('2024-06-02') })) read.push(r.row)
  t.same(read, events.map(toRow), 'every event once, as it was archived, in key order')
  const oneDay = []
  for await (const r of readArchive(FileObjectStore.fromConfig(config), new ParquetCodec(), { from: new Date('2024-06-02'), to: new Date('2024-06-02') })) oneDay.push(r.row.id)
  t.same(oneDay, [nextDay[0]!.id], 'a day range reads only its day')

  // Delivery is at least once: an event that comes again is not archived again.
  const again = archive()
  t.teardown(() => again.close())
  const repeat = again.handle({ event: ten[1]!, attempt: 2, final: false })
  await again.flush()
  await repeat
  t.equal(again.counters.duplicates, 1)
  t.equal((await readdir(join(dir, 'archive/delivery_events/2024/06/01'))).length, 2, 'no new file')
})
