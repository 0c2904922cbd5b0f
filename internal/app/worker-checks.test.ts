import pg from 'pg'
import t from 'tap'
import { S3ObjectStore } from '../archive/s3.js'
import { loadConfig } from '../config/config.js'
import { startS3 } from '../platform/testing/s3.js'
import { testVhost } from '../platform/testing/broker.js'
import { workerChecks } from './checks.js'
import { rabbitStatusQueue } from './status-updates.js'

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

t.test("the status-updates role's broker connection is part of readiness", async (t) => {
  const url = await testVhost(t)
  const config = loadConfig({ AMQP_URL: url, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' })
  const queue = rabbitStatusQueue(config, { log: { info: () => undefined, warn: () => undefined, error: () => undefined } })
  const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 1 })
  t.teardown(() => pool.end())
  const { statusQueue: check } = workerChecks({ pool, statusQueue: queue })
  t.equal(check?.critical, true, 'critical: without it no update is applied')
  await t.rejects(check!.check(), /not connected/, 'before it connects: not ready')
  await queue.start()
  t.teardown(() => queue.close())
  await t.resolves(check!.check(), 'connected: ready')
})
