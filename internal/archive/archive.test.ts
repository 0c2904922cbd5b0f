import t from 'tap'
import { loadConfig } from '../config/config.js'
import { roleQueues, WORKER_ROLES } from '../events/topology.js'
import { bearer, type TestGateway } from '../app/testing/gateway.js'
import { eventually, publishRaw, queuesExist, testVhost } from '../platform/testing/broker.js'
import { allPublished, eventLog, makeEvents } from '../app/testing/events.js'
import { startS3 } from '../platform/testing/s3.js'
import { startWorker, workerGateway } from '../app/testing/worker.js'
import type { ObjectStore } from './ports.js'
import { S3ObjectStore } from './s3.js'
import { ParquetCodec } from './parquet.js'
import { readArchive } from './reader.js'

const amqpUrl = await testVhost(t)

t.test('events in, Parquet objects out: every logged event exactly once, typed columns', async (t) => {
  const s3 = await startS3(t)
  const gw = await workerGateway(t, amqpUrl, s3.env)
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['archive'], env: s3.env })
  await makeEvents(gw, 30)
  const log = await eventLog(gw)
  t.ok(log.length >= 70, `${log.length} events logged`)
  const rows = await eventually(async () => {
    const r = await s3.rows()
    return r.length >= log.length && r
  }, 'every event archived')

  const ids = rows.map((r) => r.row.id as string)
  t.equal(new Set(ids).size, ids.length, 'no event archived twice')
  t.same(new Set(ids), new Set(log.map((e) => e.id)), 'exactly the logged events')
  const millis = (d: Date) => new Date(Math.floor(d.getTime()))
  const hourPrefix = (d: Date) => `delivery_events/${d.toISOString().slice(0, 10).replaceAll('-', '/')}/${d.toISOString().slice(11, 13)}-`
  const got = rows.map(({ key, row }) => ({ ...row, key: key.startsWith(hourPrefix(row.recorded_at as Date)) && /-[0-9a-f-]{36}\.parquet$/.test(key) }))
  const want = log.map((e) => {
    const loc = e.data.location as { lat: number; lng: number } | undefined
    return {
      id: e.id,
      type: e.type,
      tracking_number: e.tracking_number,
      seq: BigInt(e.seq),
      status: typeof e.data.status === 'string' ? e.data.status : null,
      lat: loc?.lat ?? null,
      lng: loc?.lng ?? null,
      occurred_at: millis(e.occurred_at),
      recorded_at: millis(e.recorded_at),
      data: e.data,
      actor: e.actor,
      request_id: e.request_id,
      key: true,
    }
  })
  const byId = (a: object, b: object) => String((a as { id: string }).id).localeCompare(String((b as { id: string }).id))
  t.same(got.sort(byId), want.sort(byId), 'each row equals its logged event (typed), in an object of its recorded hour')

  const key = rows[0]!.key
  const schema = (await s3.metadata(key)).schema
  const col = (name: string) => schema.find((s) => s.name === name)!
  t.equal(col('id').converted_type, 'UTF8')
  t.equal(col('seq').type, 'INT64')
  t.equal(col('lat').type, 'DOUBLE')
  t.equal(col('occurred_at').type, 'INT64')
  t.match(col('occurred_at').logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' })
  t.match(col('recorded_at').logical_type, { type: 'TIMESTAMP' })
  t.equal(col('data').converted_type, 'JSON')

  // archive:read's reader gives back the same events for the day range.
  const store = S3ObjectStore.fromConfig(w.config)
  t.teardown(() => store.close())
  const today = new Date(log[0]!.recorded_at.toISOString().slice(0, 10))
  const read = []
  for await (const r of readArchive(store, new ParquetCodec(), { from: today, to: new Date(Date.now()) })) read.push(r.row.id)
  t.same(new Set(read), new Set(log.map((e) => e.id)))
  t.equal(read.length, log.length)

  // The relay publishes at least once: an event that comes again is not archived again.
  const again = log[5]!
  await publishRaw(amqpUrl, again.type, { id: again.id, type: again.type, trackingNumber: again.tracking_number, seq: again.seq, occurredAt: again.occurred_at, recordedAt: again.recorded_at, data: again.data })
  await eventually(() => w.worker.archive!.counters.duplicates === 1, 'the repeat to be recognised')
  t.equal((await s3.rows()).length, log.length, 'still one row per event')
})

/** The gateway's own /stats figures for a worker queue. */
async function queueStats(gw: TestGateway, token: string, queue = 'delivertrack.archive') {
  const res = await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(token) })
  return (res.json() as { queues: Record<string, { messages: number; consumers: number; retrying: number; deadLetters: number }> }).queues[queue]
}

t.test('events published while no worker runs wait in the queue; /stats and /metrics show it', async (t) => {
  const s3 = await startS3(t)
  const gw = await workerGateway(t, amqpUrl, s3.env)
  const admin = await gw.user('admin')
  await makeEvents(gw, 5)
  const log = await eventLog(gw)
  const waiting = await eventually(async () => {
    const q = await queueStats(gw, admin.token)
    return q?.messages === log.length && q
  }, 'the events to wait in delivertrack.archive')
  t.match(waiting, { messages: log.length, consumers: 0, retrying: 0, deadLetters: 0 })

  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['archive'], env: s3.env })
  await eventually(async () => (await s3.rows()).length === log.length, 'the waiting events archived')
  const drained = await eventually(async () => {
    const q = await queueStats(gw, admin.token)
    return q?.messages === 0 && q.consumers === 1 && q
  }, 'the queue drained')
  t.match(drained, { messages: 0, consumers: 1, deadLetters: 0 })
  const metrics = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /delivertrack_queue_consumers\{queue="delivertrack.archive"\} 1/)
  t.match(metrics, /delivertrack_queue_dead_letters\{queue="delivertrack.archive"\} 0/)
  t.match(metrics, /delivertrack_queue_retrying\{queue="delivertrack.webhooks"\} 0/)
  t.equal(w.worker.archive!.counters.events, log.length)
})

t.test('WORKER_QUEUES=none: a gateway without workers keeps no queue for them', async (t) => {
  // A vhost of its own: the other tests of this file declare the queues in theirs.
  const vhost = await testVhost(t)
  const gw = await workerGateway(t, vhost, { WORKER_QUEUES: 'none' })
  const admin = await gw.user('admin')
  await makeEvents(gw, 3)
  const log = await eventLog(gw)
  t.ok(log.length > 0, `${log.length} events logged`)
  await eventually(() => allPublished(gw), 'the events to be published')
  const stats = (await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(admin.token) })).json() as { queues: object }
  t.same(stats.queues, {}, '/stats lists no worker queue')
  const names = WORKER_ROLES.map((role) => roleQueues(role, []).work)
  const exist = await queuesExist(vhost, names)
  t.same(exist, Object.fromEntries(names.map((n) => [n, false])), 'no worker queue was declared, so nothing piles up in one')
})

t.test('S3 down: events stay queued and are retried (not dead-lettered), then flow when it is back', async (t) => {
  const s3 = await startS3(t)
  const env = { ...s3.env, WORKER_RETRY_DELAYS_MS: '200,400', WORKER_MAX_ATTEMPTS: '60' }
  const gw = await workerGateway(t, amqpUrl, env)
  const admin = await gw.user('admin')
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['archive'], env })
  await s3.stop()
  await makeEvents(gw, 8)
  const log = await eventLog(gw)
  await eventually(() => w.worker.consumers[0]!.counters.retried >= log.length, 'failed uploads to be retried')
  const during = await queueStats(gw, admin.token)
  t.equal(during?.deadLetters, 0, 'nothing dead-lettered during the outage')
  t.equal(w.worker.consumers[0]!.counters.acked, 0, 'nothing acknowledged while S3 is down')

  await s3.start()
  const rows = await eventually(async () => {
    const r = await s3.rows()
    return r.length >= log.length && r
  }, 'the events archived after the outage')
  const ids = rows.map((r) => r.row.id)
  t.equal(new Set(ids).size, ids.length, 'no duplicates')
  t.same(new Set(ids), new Set(log.map((e) => e.id)))
  const after = await eventually(async () => {
    const q = await queueStats(gw, admin.token)
    return q?.messages === 0 && q.retrying === 0 && q
  }, 'the queues to drain')
  t.equal(after.deadLetters, 0)
})

/** The real bucket, except that the first upload's answer is lost after the object was written. */
class LostAnswerStore implements ObjectStore {
  readonly puts: string[] = []
  private failures = 1
  constructor(private readonly inner: ObjectStore) {}
  async put(key: string, body: Uint8Array) {
    await this.inner.put(key, body)
    this.puts.push(key)
    if (this.failures-- > 0) throw new Error('socket hang up (after the object was stored)')
  }
  exists = (key: string) => this.inner.exists(key)
  get = (key: string) => this.inner.get(key)
  list = (prefix: string) => this.inner.list(prefix)
}

t.test('a batch whose upload answer was lost is uploaded again to the same key: no duplicate rows', async (t) => {
  const s3 = await startS3(t)
  const gw = await workerGateway(t, amqpUrl, s3.env)
  const real = S3ObjectStore.fromConfig(loadConfig(s3.env))
  t.teardown(() => real.close())
  const store = new LostAnswerStore(real)
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['archive'], env: { ...s3.env, ARCHIVE_BATCH_SIZE: '500', ARCHIVE_BATCH_AGE_MS: '300' }, store })
  await makeEvents(gw, 6)
  const log = await eventLog(gw)
  const rows = await eventually(async () => {
    const r = await s3.rows()
    return w.worker.consumers[0]!.counters.acked >= log.length && r
  }, 'every event acknowledged')
  const ids = rows.map((r) => r.row.id)
  t.equal(ids.length, log.length, 'each event in exactly one row')
  t.same(new Set(ids), new Set(log.map((e) => e.id)))
  t.equal(store.puts.filter((k) => k === store.puts[0]).length, 2, 'the lost batch was written twice, to the same key')
  t.same(await s3.keys(), [...new Set(store.puts)].sort(), 'no object besides the batches')
})

t.test('after the last attempt an event is dead-lettered; dlq:requeue puts it back on the queue', async (t) => {
  const s3 = await startS3(t)
  const env = { ...s3.env, WORKER_RETRY_DELAYS_MS: '100', WORKER_MAX_ATTEMPTS: '2' }
  const gw = await workerGateway(t, amqpUrl, env)
  const admin = await gw.user('admin')
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['archive'], env })
  await s3.stop()
  await makeEvents(gw, 2)
  const log = await eventLog(gw)
  await eventually(async () => (await queueStats(gw, admin.token))?.deadLetters === log.length, 'every event dead-lettered')
  t.equal(w.worker.consumers[0]!.counters.deadLettered, log.length)

  await s3.start()
  const result = await w.bus.requeueDeadLetters('archive')
  t.same(result, { requeued: log.length, remaining: 0 })
  const rows = await eventually(async () => {
    const r = await s3.rows()
    return r.length >= log.length && r
  }, 'the requeued events archived')
  t.equal(rows.length, log.length)
  t.equal((await queueStats(gw, admin.token))?.deadLetters, 0)
})

t.test('a message that is not an event envelope goes straight to the dead-letter queue', async (t) => {
  const s3 = await startS3(t)
  const gw = await workerGateway(t, amqpUrl, s3.env)
  const admin = await gw.user('admin')
  await startWorker(t, { iso: gw, amqpUrl, roles: ['archive'], env: s3.env })
  await publishRaw(amqpUrl, 'package.created', { hello: 'world' })
  await publishRaw(amqpUrl, 'package.created', Buffer.from('{not json'))
  await publishRaw(amqpUrl, 'package.created', { id: 'not-a-uuid', type: 'package.created', trackingNumber: 'DT1', occurredAt: 'x', recordedAt: 'y', data: {} })
  await eventually(async () => (await queueStats(gw, admin.token))?.deadLetters === 3, 'three dead letters')
  t.same(await s3.keys(), [], 'nothing archived')
})
