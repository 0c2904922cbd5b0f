import pg from 'pg'
import t from 'tap'
import { S3ObjectStore } from '../archive/s3.js'
import { loadConfig } from '../config/config.js'
import { startS3 } from '../platform/testing/s3.js'
import { workerChecks } from './checks.js'

// The worker's readiness checks against a real S3 API (s3rver).
t.test("the worker's readiness checks the archive bucket, and says when it is away", async (t) => {
  const s3 = await startS3(t)
  const store = S3ObjectStore.fromConfig(loadConfig(s3.env))
  t.teardown(() => store.close())
  await store.ensureBucket()
  const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 1 })
  t.teardown(() => pool.end())
  const { s3: check, postgres } = workerChecks({ pool, archiveStore: store })
  await t.resolves(postgres!.check(), 'the database check beside it')
  t.equal(check?.critical, false, 'not critical: events wait in the archive queue')
  await t.resolves(check!.check(), 'up: the look-up answers')
  await s3.stop()
  await t.rejects(check!.check(), 'down: the look-up fails, so /health/ready says degraded')
  await s3.start()
})
