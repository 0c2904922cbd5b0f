import t from 'tap'
import { bearer, type TestGateway } from '../app/testing/gateway.js'
import { eventually, testVhost } from '../platform/testing/broker.js'
import { eventLog, makeEvents } from '../app/testing/events.js'
import { spawnWorker } from '../app/testing/process.js'
import { startS3 } from '../platform/testing/s3.js'
import { workerGateway } from '../app/testing/worker.js'

const amqpUrl = await testVhost(t)

async function archiveQueue(gw: TestGateway, token: string) {
  const res = await gw.app.inject({ method: 'GET', url: '/api/v1/stats', headers: bearer(token) })
  return (res.json() as { queues: Record<string, { messages: number; consumers: number; deadLetters: number }> }).queues['delivertrack.archive']!
}

t.test('a worker killed mid-batch loses nothing: the next one archives every event once; SIGTERM flushes the partial batch', async (t) => {
  const s3 = await startS3(t)
  // Batches cut at 40 events, never by age: a partial batch waits in the worker, unacknowledged.
  const env = { ...s3.env, ARCHIVE_BATCH_SIZE: '40', ARCHIVE_BATCH_AGE_MS: '3600000' }
  const gw = await workerGateway(t, amqpUrl, env)
  const admin = await gw.user('admin')
  await makeEvents(gw, 10)
  const first = (await eventLog(gw)).length
  t.ok(first < 40, `${first} events: less than a batch`)

  const doomed = spawnWorker(t, gw, amqpUrl, ['--only', 'archive'], env)
  await eventually(async () => {
    const q = await archiveQueue(gw, admin.token)
    return q.messages === 0 && q.consumers === 1
  }, 'the first worker to hold every event', 60_000)
  doomed.child.kill('SIGKILL')
  t.equal(await doomed.exited, 'SIGKILL')
  t.same(await s3.keys(), [], 'the killed worker wrote nothing')
  await eventually(async () => (await archiveQueue(gw, admin.token)).messages === first, 'its unacknowledged events back in the queue')

  await makeEvents(gw, 10)
  const log = await eventLog(gw)
  const second = spawnWorker(t, gw, amqpUrl, ['--only', 'archive'], env)
  // One full batch of 40 goes out by count; the rest waits in the worker for more.
  await eventually(async () => (await s3.rows()).length === 40, 'a full batch archived', 60_000)
  await eventually(async () => (await archiveQueue(gw, admin.token)).messages === 0, 'the rest delivered to the worker')
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0, `graceful exit (output: ${second.output().slice(0, 500)})`)

  const rows = await s3.rows()
  const ids = rows.map((r) => r.row.id)
  t.equal(ids.length, log.length, 'every event in exactly one row')
  t.same(new Set(ids), new Set(log.map((e) => e.id)), 'no loss')
  t.equal(new Set(rows.map((r) => r.key)).size, 2, 'the full batch and the one flushed at shutdown')

  // With no worker running, new events wait in the queue.
  await makeEvents(gw, 2)
  const later = (await eventLog(gw)).length - log.length
  await eventually(async () => {
    const q = await archiveQueue(gw, admin.token)
    return q.messages === later && q.consumers === 0
  }, 'new events to wait for the next worker')
})
