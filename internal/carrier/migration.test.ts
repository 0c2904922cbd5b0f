import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { migrate } from '../platform/db/migrate.js'
import { emptySchema } from '../platform/testing/harness.js'

// Migration 0016 on a database that used the stub: its queued requests become due trackings.
const DIR = fileURLToPath(new URL('../platform/db/migrations/', import.meta.url))

t.test('carrier_sync_requests rows become trackings, and the stub table goes', async (t) => {
  const { schema, pool: newPool } = await emptySchema(t, 'test_mig16')
  const pool = newPool()
  const before = await mkdtemp(join(tmpdir(), 'mig16-'))
  t.teardown(() => rm(before, { recursive: true, force: true }))
  for (const f of await readdir(DIR)) if (/^\d{4}_/.test(f) && Number.parseInt(f, 10) < 16) await copyFile(join(DIR, f), join(before, f))
  await migrate(pool, before)
  const { rows: [pkg] } = await pool.query<{ id: string }>(`INSERT INTO packages (tracking_number, status, carrier, sender, recipient, external) VALUES ('1Z999AA10123456784', 'pending', 'ups', '{"name": "Unknown sender"}', '{"name": "Unknown recipient"}', true) RETURNING id`)
  await pool.query(`INSERT INTO carrier_sync_requests (package_id, carrier, requested_at, next_attempt_at) VALUES ($1, 'ups', '2026-11-01T10:00:00Z', '2026-11-01T10:00:00Z')`, [pkg!.id])

  await migrate(pool, DIR)
  const { rows } = await pool.query('SELECT carrier, active, next_update_due, last_checked_at, priority FROM carrier_trackings WHERE package_id = $1', [pkg!.id])
  t.same(rows, [{ carrier: 'ups', active: true, next_update_due: new Date('2026-11-01T10:00:00Z'), last_checked_at: null, priority: 100 }], 'due since it was requested')
  const { rows: stub } = await pool.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'carrier_sync_requests'`, [schema])
  t.equal(stub.length, 0, 'the stub table is gone')
})
