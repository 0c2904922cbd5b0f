import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { toRow, objectKey, type ArchiveRow } from '../../internal/archive/domain.js'
import { FileObjectStore } from '../../internal/archive/fs.js'
import { ParquetCodec } from '../../internal/archive/parquet.js'
import type { ObjectStore } from '../../internal/archive/ports.js'
import { rowToJson } from '../../internal/archive/reader.js'
import { S3ObjectStore } from '../../internal/archive/s3.js'
import { loadConfig } from '../../internal/config/config.js'
import { projectRoot } from '../../internal/platform/paths.js'
import { startS3 } from '../../internal/platform/testing/s3.js'

/** `npm run archive:read` from source, with only `env` in its environment. */
function archiveRead(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'cmd/archive-read/main.ts', ...args], { cwd: projectRoot(), env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

/** Two archived events of 2024-06-01 in `store`, as the archive role writes them. */
async function archived(store: ObjectStore): Promise<ArchiveRow[]> {
  const rows = ['2024-06-01T09:00:00.000Z', '2024-06-01T09:10:00.000Z'].map((at, i) =>
    toRow({ id: randomUUID(), type: 'package.status_changed', trackingNumber: `DT000000000${i}X`, seq: i + 1, occurredAt: at, recordedAt: at, data: { status: 'in_transit' } }),
  )
  await store.put(objectKey(rows[0]!), new ParquetCodec().encode(rows))
  return rows
}

const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)

t.test('with none of the service URLs set, archive:read reads DATA_DIR/archive', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'archive-read-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const rows = await archived(FileObjectStore.fromConfig({ DATA_DIR: dir }))
  const out = await archiveRead(['--from', '2024-06-01'], { DATA_DIR: dir })
  t.equal(out.code, 0, out.stderr)
  t.same(lines(out.stdout), rows.map(rowToJson))
  t.match(out.stderr, `2 events from 1 objects in ${join(dir, 'archive')} (embedded mode`)
})

t.test('with the service URLs set, as for the gateway or the worker, it reads the S3 bucket', async (t) => {
  const s3 = await startS3(t)
  const store = S3ObjectStore.fromConfig(loadConfig(s3.env))
  t.teardown(() => store.close())
  const rows = await archived(store)
  // Never connected to: archive:read only needs the bucket. The worker runs without REDIS_URL.
  const gateway = { DATABASE_URL: 'postgres://127.0.0.1:1/x', REDIS_URL: 'redis://127.0.0.1:1', AMQP_URL: 'amqp://127.0.0.1:1' }
  const { REDIS_URL: _, ...worker } = gateway
  for (const [who, env] of Object.entries({ gateway, worker })) {
    const out = await archiveRead(['--from', '2024-06-01'], { ...env, ...s3.env })
    t.equal(out.code, 0, out.stderr)
    t.same(lines(out.stdout), rows.map(rowToJson), who)
    t.match(out.stderr, `2 events from 1 objects in s3://${s3.bucket}, 2024-06-01`, who)
  }
})
