import t from 'tap'
import { spawnCommand } from '../app/testing/process.js'
import { eventually, testVhost } from '../platform/testing/broker.js'
import { sample } from '../platform/testing/prometheus.js'
import { fleetGateway } from './testing/fleet.js'

// cmd/dispatch as its own process: killed (SIGKILL) while offering a burst of new
// packages and started again, it leaves no package with two offers and none without one;
// an order placed before dispatch ever ran waits in the queue the gateway declared.

const amqpUrl = await testVhost(t)

t.test('dispatch killed mid-stream resumes from its queue', async (t) => {
  const fleet = await fleetGateway(t, amqpUrl)
  const { gw } = fleet
  for (const name of ['Ann', 'Ben', 'Cem']) await fleet.driver(name, { at: { lat: 52.5, lng: 13.4 } })
  const start = () => spawnCommand(t, 'cmd/dispatch/main.ts', gw, amqpUrl, [], { REDIS_URL: gw.urls.redisUrl, DISPATCH_AUTO_ASSIGN: 'true', LOG_LEVEL: 'info' })
  const offers = async (numbers: string[]) => {
    const { rows } = await gw.pool.query<{ tracking_number: string; n: number }>(
      `SELECT tracking_number, count(*)::int AS n FROM assignments WHERE tracking_number = ANY($1) GROUP BY tracking_number`,
      [numbers],
    )
    return rows
  }

  const numbers: string[] = [await fleet.order()]
  const first = start()
  const base = await eventually(() => /"address":"(http:[^"]+)"/.exec(first.output())?.[1], 'dispatch to listen on its health port', 60_000)
  await eventually(() => /dispatch consuming/.test(first.output()), 'dispatch to consume its queue', 30_000)
  t.same(await (await fetch(`${base}/health`)).json(), { status: 'ok' })
  t.match(await (await fetch(`${base}/health/ready`)).json(), { status: 'ok', checks: { postgres: { ok: true }, redis: { ok: true }, rabbitmq: { ok: true } } })

  // New packages keep coming, four at a time, while dispatch is killed and started again.
  const stream = (async () => {
    for (let i = 0; i < 15; i++) numbers.push(...(await Promise.all([fleet.order(), fleet.order(), fleet.order(), fleet.order()])))
  })()
  await eventually(async () => (await offers(numbers)).length >= 5, 'dispatch to have made some offers')
  await eventually(async () => (await offers(numbers.slice(0, 1))).length === 1, 'the order placed before dispatch first started to be offered')
  first.child.kill('SIGKILL')
  t.equal(await first.exited, 'SIGKILL')
  await stream
  const before = (await offers(numbers)).length
  t.ok(before < numbers.length, `killed with ${numbers.length - before} of ${numbers.length} packages still to offer`)

  const second = start()
  const rows = await eventually(async () => {
    const r = await offers(numbers)
    return r.length === numbers.length && r
  }, 'every package to be offered after the restart', 60_000)
  t.same(rows.filter((r) => r.n !== 1), [], 'each package was offered exactly once')
  const { rows: active } = await gw.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM assignments WHERE tracking_number = ANY($1) AND state = 'offered' AND assigned_by = 'dispatch'`, [numbers])
  t.equal(active[0]!.n, numbers.length, 'all of them by dispatch, all still offered')

  const again = await eventually(() => /"address":"(http:[^"]+)"/.exec(second.output())?.[1], 'the restarted dispatch\'s health port', 30_000)
  const metrics = await (await fetch(`${again}/metrics`)).text()
  t.ok((sample(metrics, 'delivertrack_dispatch_offers_total', { cause: 'new' }) ?? 0) > 0, '/metrics counts its offers')
  t.ok(sample(metrics, 'delivertrack_process_resident_memory_bytes'), 'and the process\'s own figures')
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0, `graceful exit (output: ${second.output().slice(-500)})`)
})
