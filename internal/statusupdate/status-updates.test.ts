import { requestIdMixin } from '../platform/request-context.js'
import amqplib from 'amqplib'
import t from 'tap'
import { statusApplier, rabbitStatusQueue } from '../app/status-updates.js'
import { redisPackageCache } from '../app/stores.js'
import { bearer, testGateway, type TestGateway } from '../app/testing/gateway.js'
import { createPool } from '../platform/db/postgres.js'
import { eventually, testVhost } from '../platform/testing/broker.js'
import { tcpProxy } from '../platform/testing/tcp-proxy.js'
import { spawnWorker } from '../app/testing/process.js'
import type { StatusConsumer } from './queue-rabbitmq.js'
import { CLIENT_HEADER, INTAKE_QUEUE } from './queue-topology.js'

// One gateway whose status queue reaches RabbitMQ (a vhost of this file's own)
// through a TCP proxy the outage test cuts; workers are built as cmd/worker builds them.
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }
/** The appliers' info lines, with the request id a worker's pino mixin would add. */
const told: Array<Record<string, unknown>> = []
const telling = { ...quiet, info: (o: object, msg: string) => void told.push({ ...requestIdMixin(), ...o, msg }) }
const vhost = await testVhost(t)
const proxy = await tcpProxy(t, vhost, 5672)
const gw: TestGateway = await testGateway(t, { WORKER_RETRY_DELAYS_MS: '100,200', WORKER_MAX_ATTEMPTS: '3', STATUS_UPDATE_PARTITIONS: '4', CACHE_TTL_S: '60' }, { statusQueueUrl: proxy.url })
const admin = await gw.user('admin')
const { client, clientSecret } = await gw.auth.createServiceClient('carrier integration')
const service = { id: client.clientId, token: (await gw.auth.clientCredentials(client.clientId, clientSecret)).access_token }
const other = await gw.serviceToken()
const workerPool = createPool({ url: gw.urls.databaseUrl, schema: `${gw.schema},public`, max: 4 })
t.teardown(() => workerPool.end())

/** A status-updates worker on the vhost (directly, not through the proxy). */
async function startWorker(): Promise<{ consumer: StatusConsumer; kill(): Promise<void>; stop(): Promise<void> }> {
  const queue = rabbitStatusQueue(gw.config, { log: quiet, url: vhost })
  await queue.start()
  const applier = statusApplier(gw.config, workerPool, { cache: redisPackageCache(gw.config, gw.redis), origin: 'test-worker', log: telling })
  const consumer = await queue.consume(async (m) => void (await applier.apply(m)))
  let done = false
  const end = async (graceful: boolean) => {
    if (done) return
    done = true
    if (graceful) await consumer.stop()
    await queue.close()
  }
  t.teardown(() => end(false))
  return { consumer, kill: () => end(false), stop: () => end(true) }
}

let n = 0
async function newPackage(): Promise<string> {
  const res = await gw.app.inject({ method: 'POST', url: '/api/v1/packages', headers: bearer(admin.token), payload: { sender: { name: 'Shop' }, recipient: { name: 'Ann' } } })
  return (res.json() as { trackingNumber: string }).trackingNumber
}
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 8, minute)).toISOString()
const update = (tn: string, status: string, minute: number, externalId = `ext-${++n}`) => ({ externalId, trackingNumber: tn, status, occurredAt: at(minute) })
const post = (token: string, updates: unknown[], requestId?: string) => gw.app.inject({ method: 'POST', url: '/api/v1/status-updates', headers: { ...bearer(token), ...(requestId ? { 'x-request-id': requestId } : {}) }, payload: { updates } })
const read = async (token: string, externalId: string) => gw.app.inject({ method: 'GET', url: `/api/v1/status-updates/${encodeURIComponent(externalId)}`, headers: bearer(token) })
const stateOf = async (externalId: string, token = service.token) => (await read(token, externalId)).json() as { state: string; reason?: string; eventSeq?: number }
const statusEvents = async (tn: string) =>
  (await gw.pool.query<{ status: string; occurred_at: Date }>("SELECT e.data->>'status' AS status, e.occurred_at FROM package_events e WHERE e.tracking_number = $1 AND e.type = 'package.status_changed' ORDER BY e.seq", [tn])).rows
const settled = (ids: string[]) => eventually(async () => (await gw.pool.query("SELECT count(*)::int AS c FROM status_updates WHERE external_id = ANY($1) AND state <> 'queued'", [ids])).rows[0].c === ids.length, `${ids.length} updates to be settled`)

t.test('bad batches are refused whole; good ones answer 202 at once and count duplicates', async (t) => {
  const tn = await newPackage()
  const customer = await gw.user('customer')
  t.equal((await post(customer.token, [update(tn, 'in_transit', 1)])).statusCode, 403, 'customers may not post')
  const tooMany = await post(service.token, Array.from({ length: 501 }, (_, i) => update(tn, 'in_transit', 1, `many-${i}`)))
  t.equal(tooMany.statusCode, 400)
  t.equal(tooMany.json().code, 'validation_failed', '501 updates: 400 in the error shape')
  const malformed = await post(service.token, [update(tn, 'in_transit', 1), update('no!', 'in_transit', 2)])
  t.equal(malformed.statusCode, 400)
  t.match(malformed.json().details, [{ path: '/updates/1/trackingNumber' }], 'a malformed number names its place in the batch')

  const batch = [update(tn, 'in_transit', 1, 'dup-a'), update(tn, 'out_for_delivery', 2, 'dup-b'), update(tn, 'out_for_delivery', 2, 'dup-b')]
  const first = await post(service.token, batch)
  t.equal(first.statusCode, 202)
  t.same(first.json(), { accepted: 2, duplicates: 1 }, 'a repeat inside the batch is a duplicate')
  t.same((await post(service.token, batch.slice(0, 1))).json(), { accepted: 0, duplicates: 1 }, 'a repeat of an earlier batch is a duplicate')
  t.same((await post(other, batch.slice(0, 1))).json(), { accepted: 1, duplicates: 0 }, 'externalIds are unique per client only')
  t.equal((await stateOf('dup-a')).state, 'queued')
  t.equal((await read(await gw.serviceToken(), 'dup-b')).statusCode, 404, "another client's update is not found")
  t.equal((await stateOf('dup-b', admin.token)).state, 'queued', 'an admin reads any')
})

t.test('a worker applies a batch in occurredAt order through the status rules, and records refusals', async (t) => {
  await gw.pool.query("UPDATE status_updates SET state = 'refused', reason = 'earlier test' WHERE state = 'queued'")
  const worker = await startWorker()
  const tn = await newPackage()
  const late = await newPackage()
  const batch = [
    update(tn, 'delivered', 30, 'b-delivered'),
    update(tn, 'in_transit', 10, 'b-transit'),
    update(tn, 'out_for_delivery', 20, 'b-out'),
    update('ZZ00000000404', 'in_transit', 5, 'b-unknown'),
    update(late, 'delivered', 5, 'b-illegal'),
  ]
  t.same((await post(service.token, batch, 'batch-request-1')).json(), { accepted: 5, duplicates: 0 })
  await settled(batch.map((u) => u.externalId))
  t.same((await statusEvents(tn)).map((e) => e.status), ['in_transit', 'out_for_delivery', 'delivered'], 'applied in occurredAt order, not the order sent')
  const delivered = await stateOf('b-delivered')
  t.match(delivered, { state: 'applied', eventSeq: 4 }, 'applied, with the seq of its event')
  t.same(await stateOf('b-unknown'), { externalId: 'b-unknown', state: 'refused', reason: 'unknown tracking number' }, 'an unknown number is refused, not the batch')
  t.match(await stateOf('b-illegal'), { state: 'refused', reason: /pending.*delivered|delivered/ }, 'a transition the table forbids is refused with the reason')
  const pkg = (await gw.app.inject({ method: 'GET', url: `/api/v1/packages/${tn}`, headers: bearer(admin.token) })).json() as { status: string }
  t.equal(pkg.status, 'delivered', 'readers see the applied status (the cache was invalidated)')
  const requestIds = (await gw.pool.query("SELECT request_id FROM package_events WHERE tracking_number = $1 AND type = 'package.status_changed'", [tn])).rows.map((r) => r.request_id)
  t.same(requestIds, ['batch-request-1', 'batch-request-1', 'batch-request-1'], 'each applied event names the request that posted it (envelope requestId)')
  t.match(told.find((l) => l.externalId === 'b-unknown'), { msg: 'status update refused', requestId: 'batch-request-1', reason: 'unknown tracking number' }, 'the worker says what it refused, naming the request')

  // After the package moved on: an older update is refused; a repeat is not applied twice.
  await post(service.token, [update(late, 'in_transit', 20, 'late-new')])
  await settled(['late-new'])
  t.same((await post(service.token, [update(late, 'in_transit', 25, 'late-new'), update(late, 'exception', 15, 'late-old')])).json(), { accepted: 1, duplicates: 1 })
  await settled(['late-old'])
  t.match(await stateOf('late-old'), { state: 'refused', reason: /older than the package's latest status change/ })
  t.same((await statusEvents(late)).map((e) => e.status), ['in_transit'], 'neither the repeat nor the older one changed the package')
  await worker.stop()
})

t.test('a service inside the cluster may publish straight to the queue', async (t) => {
  const worker = await startWorker()
  const tn = await newPackage()
  const connection = await amqplib.connect(vhost)
  const channel = await connection.createConfirmChannel()
  channel.sendToQueue(INTAKE_QUEUE, Buffer.from(JSON.stringify({ trackingNumber: tn, status: 'in_transit', occurredAt: at(1) })), { messageId: 'direct-1', headers: { [CLIENT_HEADER]: service.id }, persistent: true })
  channel.sendToQueue(INTAKE_QUEUE, Buffer.from(JSON.stringify({ trackingNumber: tn, status: 'in_transit', occurredAt: at(1) })), { messageId: 'direct-1', headers: { [CLIENT_HEADER]: service.id }, persistent: true })
  await channel.waitForConfirms()
  await connection.close()
  await settled(['direct-1'])
  await eventually(() => worker.consumer.counters.handled >= 2, 'both copies to be handled')
  t.match(await stateOf('direct-1'), { state: 'applied' }, 'recorded on consumption, readable by the client named in x-client-id')
  t.equal((await statusEvents(tn)).length, 1, 'a repeated message applies once')
  await worker.stop()
})

t.test('an update that fails every attempt waits in the dead letters, still queued, and its client reads why', async (t) => {
  const queue = rabbitStatusQueue(gw.config, { log: quiet, url: vhost })
  await queue.start()
  t.teardown(() => queue.close())
  const applier = statusApplier(gw.config, workerPool, { origin: 'test-worker', log: quiet })
  // The database "fails" for this one update, as an outage outlasting the retries would.
  const consumer = await queue.consume(
    async (m) => {
      if (m.update.externalId === 'held-1') throw new Error('database unavailable')
      await applier.apply(m)
    },
    (m, attempts, err) => applier.held(m, attempts, err),
  )
  const tn = await newPackage()
  t.same((await post(service.token, [update(tn, 'in_transit', 1, 'held-1')])).json(), { accepted: 1, duplicates: 0 })
  await eventually(() => consumer.counters.deadLettered === 1, 'the update to be dead-lettered after its attempts')
  await eventually(async () => (await stateOf('held-1')).reason !== undefined, 'the reason to be recorded')
  t.same(await stateOf('held-1'), { externalId: 'held-1', state: 'queued', reason: 'not applied after 3 attempts (last: database unavailable); held for an operator to requeue' })
  t.equal((await statusEvents(tn)).length, 0, 'and the package did not change')
  await consumer.stop()
})

t.test('a worker killed mid-stream (SIGKILL) or stopped leaves every update applied exactly once, in order per package', async (t) => {
  const packages = await Promise.all(Array.from({ length: 20 }, () => newPackage()))
  const ids: string[] = []
  for (let round = 0; round < 15; round++) {
    const batch = packages.map((tn) => update(tn, 'in_transit', round + 1))
    ids.push(...batch.map((u) => u.externalId))
    await post(service.token, batch)
  }
  await eventually(async () => (await gw.pool.query('SELECT count(*)::int AS c FROM status_updates WHERE published_at IS NULL')).rows[0].c === 0, 'the relay to queue them')
  const count = async () => (await gw.pool.query("SELECT count(*)::int AS c FROM status_updates WHERE external_id = ANY($1) AND state <> 'queued'", [ids])).rows[0].c as number
  // cmd/worker as its own process, killed like an orchestrator would once it is under way.
  const proc = spawnWorker(t, gw, vhost, ['--only', 'status-updates'], { REDIS_URL: gw.urls.redisUrl, STATUS_UPDATE_PARTITIONS: '4', WORKER_RETRY_DELAYS_MS: '100,200' })
  await eventually(async () => (await count()) >= 20, 'the worker process to apply some', 60_000, 10)
  proc.child.kill('SIGKILL')
  await proc.exited
  const atKill = await count()
  t.ok(atKill < ids.length, `killed mid-stream (${atKill} of ${ids.length} settled)`)
  // Two workers take over: the partitions are shared, each package stays on one. One of
  // them then stops gracefully mid-stream and hands its partitions to the other.
  const [b, c] = await Promise.all([startWorker(), startWorker()])
  await eventually(async () => (await count()) >= atKill + 20, 'the two workers to apply some', 60_000, 10)
  await b.stop()
  await settled(ids)
  const states = (await gw.pool.query('SELECT state, count(*)::int AS c FROM status_updates WHERE external_id = ANY($1) GROUP BY state', [ids])).rows
  t.same(states, [{ state: 'applied', c: ids.length }], 'every update applied (none refused as out of order)')
  let violations = 0
  let events = 0
  for (const tn of packages) {
    const list = await statusEvents(tn)
    events += list.length
    for (let i = 1; i < list.length; i++) if (list[i]!.occurred_at < list[i - 1]!.occurred_at) violations++
  }
  t.equal(events, ids.length, 'each update wrote exactly one event')
  t.equal(violations, 0, 'no package saw an older update after a newer one')
  await c.stop()
})

t.test('posting keeps working while RabbitMQ is unreachable; the updates are applied once it is back', async (t) => {
  const worker = await startWorker()
  const tn = await newPackage()
  proxy.cut()
  const batch = [update(tn, 'in_transit', 1, 'outage-1'), update(tn, 'out_for_delivery', 2, 'outage-2')]
  t.equal((await post(service.token, batch)).statusCode, 202, 'accepted during the outage')
  t.equal((await stateOf('outage-2')).state, 'queued')
  t.equal((await gw.pool.query("SELECT count(*)::int AS c FROM status_updates WHERE external_id LIKE 'outage-%' AND published_at IS NULL")).rows[0].c, 2, 'held in PostgreSQL')
  proxy.heal()
  await settled(['outage-1', 'outage-2'])
  t.same((await statusEvents(tn)).map((e) => e.status), ['in_transit', 'out_for_delivery'], 'applied once the broker is back, in order')
  await worker.stop()
})
