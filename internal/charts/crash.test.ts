import { randomUUID } from 'node:crypto'
import t from 'tap'
import type pg from 'pg'
import type { Principal } from '../auth/domain.js'
import { eventLog, makeEvents } from '../app/testing/events.js'
import { rebuildMetrics } from '../app/metrics-rebuild.js'
import { spawnWorker } from '../app/testing/process.js'
import { workerGateway } from '../app/testing/worker.js'
import { eventually, testVhost } from '../platform/testing/broker.js'

const amqpUrl = await testVhost(t)
const admin: Principal = { id: randomUUID(), role: 'admin', kind: 'user' }

const snapshot = async (pool: pg.Pool) => ({
  days: (await pool.query('SELECT * FROM metrics_orders_by_day ORDER BY day')).rows,
  drivers: (await pool.query('SELECT * FROM metrics_driver_day ORDER BY driver_id, day')).rows,
  packages: (await pool.query('SELECT * FROM metrics_packages ORDER BY package_id')).rows,
})

t.test('a metrics worker killed while counting: the next one counts every event once', async (t) => {
  const gw = await workerGateway(t, amqpUrl)
  const numbers = await makeEvents(gw, 30)
  for (const [i, tn] of numbers.entries()) {
    if (i % 3 !== 0) continue // makeEvents sent these out for delivery
    await gw.packages.changeStatus(admin, tn, { status: i % 2 ? 'failed_attempt' : 'delivered' })
  }
  const logged = (await eventLog(gw)).length
  const counted = async () => Number((await gw.pool.query('SELECT coalesce(sum(counted_seq), 0) AS n FROM metrics_packages')).rows[0].n)

  const doomed = spawnWorker(t, gw, amqpUrl, ['--only', 'metrics'], {})
  await eventually(async () => (await counted()) > 0, 'the first worker to start counting', 60_000)
  doomed.child.kill('SIGKILL')
  t.equal(await doomed.exited, 'SIGKILL')
  t.comment(`killed with ${await counted()} of ${logged} events counted`)

  const second = spawnWorker(t, gw, amqpUrl, ['--only', 'metrics'], {})
  await eventually(async () => (await counted()) === logged, 'every logged event counted', 60_000)
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0, `graceful exit (output: ${second.output().slice(0, 500)})`)

  const live = await snapshot(gw.pool)
  const totals = live.days.reduce((a, d) => ({ created: a.created + d.created, delivered: a.delivered + d.delivered, failed: a.failed + d.failed_attempts }), { created: 0, delivered: 0, failed: 0 })
  t.same(totals, { created: 30, delivered: 5, failed: 5 }, 'each package and status change counted once')
  await rebuildMetrics(gw.pool)
  t.same(await snapshot(gw.pool), live, 'equal to the aggregates rebuilt from the log')
})
