/**
 * `npm run bench:status-updates`: asynchronous status updates (issue 20), from source.
 * A gateway (in this process, listening on a port; Redis cache, RabbitMQ status
 * queue in a vhost of the run's own, a database of the run's own) and
 * `cmd/worker --only status-updates` processes (tsx). BENCH_SU_PACKAGES packages
 * (default 200) get in_transit checkpoints with rising occurredAt.
 * 1. baseline: the synchronous POST /packages/:tn/status, BENCH_SU_SYNC requests
 *    (default 2,000) over 32 connections, each package's in order;
 * 2. accepted/s: POST /status-updates in batches of 100, BENCH_SU_UPDATES updates
 *    (default 8,000) over 8 connections, each posting for its own packages (so a
 *    package's updates arrive in occurredAt order), no worker running; and the rate
 *    at which the gateway's relay (one drainer at a time) published them;
 * 3. applied/s by one worker, then (a second round of as many) by two, from the
 *    first to the last settled_at of the round, once the relay has queued it all;
 * CPU from /proc: PostgreSQL's (this database's backends and the server's background
 * processes) per update in phases 1-3, this process's (gateway, its relay and the
 * client) per accepted update, and the workers' per applied update, counted from
 * the first settled update so a worker's start-up is left out.
 * 4. ordering violations: a package's status events (by seq) whose occurredAt goes
 *    back, and updates refused; both must be 0.
 * Replaces the rows of bench:status-updates in docs/benchmarks.md (not with BENCH_NO_DOCS=1).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { memoryBus } from '../../internal/app/bus.js'
import { serviceChecks } from '../../internal/app/checks.js'
import { buildGateway } from '../../internal/app/gateway.js'
import { rabbitStatusQueue } from '../../internal/app/status-updates.js'
import { redisStores } from '../../internal/app/stores.js'
import { loadConfig } from '../../internal/config/config.js'
import { IN_PROCESS_WAKEUP } from '../../internal/events/outbox-postgres.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { createPool } from '../../internal/platform/db/postgres.js'
import { projectRoot } from '../../internal/platform/paths.js'
import { CpuMeter, loadAverage, perCore, pidIn, postgresOf, usPer } from './proc-cpu.js'
import { freePort, recreateDatabase, recreateVhost, sleep, writeResults } from './support.js'

const PACKAGES = Number(process.env.BENCH_SU_PACKAGES ?? 200)
const SYNC = Number(process.env.BENCH_SU_SYNC ?? 2_000)
const UPDATES = Number(process.env.BENCH_SU_UPDATES ?? 8_000)
const BATCH = 100
const PG_ADMIN = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const id = randomBytes(4).toString('hex')
const db = `bench_su_${id}`
const vhost = `bench_su_${id}`
const quiet = { info: () => undefined, warn: (o: object, m: string) => console.warn(m, o), error: (o: object, m: string) => console.error(m, o) }
const fmt = (n: number) => Math.round(n).toLocaleString('en')

async function main(): Promise<void> {
  const amqpUrl = recreateVhost(vhost)
  if (!amqpUrl) throw new Error('bench:status-updates needs rabbitmqctl to make its vhost (run as root)')
  await recreateDatabase(PG_ADMIN, db)
  const dbUrl = Object.assign(new URL(PG_ADMIN), { pathname: `/${db}` }).toString()
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: `${db}:` })
  const pool = createPool({ url: dbUrl, max: 20, settings: IN_PROCESS_WAKEUP })
  const workers: ChildProcess[] = []
  try {
    await migrate(pool)
    const config = loadConfig({ LOG_LEVEL: 'warn', DATABASE_URL: dbUrl, AMQP_URL: amqpUrl, REDIS_URL: 'redis://127.0.0.1:6379', WORKER_QUEUES: 'none', RATE_LIMIT_MAX: '10000000', JWT_SECRET: 'bench-secret-0123456789abcdef', PASSWORD_SCRYPT_COST: '1024' })
    const bus = memoryBus(config, { log: quiet })
    await bus.start()
    const statusQueue = rabbitStatusQueue(config, { log: quiet })
    await statusQueue.start()
    const gw = await buildGateway({ config, instanceId: `bench-${id}`, pool, stores: redisStores(config, redis), bus, checks: serviceChecks({ pool, redis }), statusQueue })
    const port = await freePort()
    await gw.app.listen({ port, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${port}/api/v1`
    const { client, clientSecret } = await gw.auth.createServiceClient('bench')
    const token = (await gw.auth.clientCredentials(client.clientId, clientSecret)).access_token
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    await pool.query(
      `INSERT INTO packages (tracking_number, status, carrier, sender, recipient) SELECT 'SU' || lpad(g::text, 9, '0'), 'in_transit', 'bench', '{"name": "s"}', '{"name": "r"}' FROM generate_series(1, $1::int) g`,
      [PACKAGES],
    )
    const tns = Array.from({ length: PACKAGES }, (_, i) => `SU${String(i + 1).padStart(9, '0')}`)
    const t0 = Date.UTC(2026, 0, 1)
    let minute = 0
    const post = async (path: string, body: unknown, expect: number) => {
      const res = await request(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
      const text = await res.body.text()
      if (res.statusCode !== expect) throw new Error(`${path}: ${res.statusCode} ${text}`)
    }
    const pgProcs = postgresOf(db)
    const pgMeter = () => {
      const m = [new CpuMeter(pgProcs.backends).start(), new CpuMeter(pgProcs.background).start()]
      return () => m.reduce((sum, x) => sum + x.stop(), 0)
    }
    const loadAvg = loadAverage()
    const run = async (jobs: Array<() => Promise<void>>, connections: number) => {
      let next = 0
      const started = performance.now()
      await Promise.all(Array.from({ length: connections }, async () => {
        while (next < jobs.length) await jobs[next++]!()
      }))
      return performance.now() - started
    }

    // 1. The synchronous route: each package's checkpoints in order (one connection per package at a time).
    const syncJobs = Array.from({ length: SYNC }, (_, i) => {
      const tn = tns[i % PACKAGES]!
      const at = new Date(t0 + ++minute * 1000).toISOString()
      return () => post(`/packages/${tn}/status`, { status: 'in_transit', occurredAt: at, note: 'sync' }, 200)
    })
    console.log(`sync route: ${SYNC} requests...`)
    const syncPg = pgMeter()
    const syncMs = await run(syncJobs, 32)
    const syncPgS = syncPg()
    const syncRate = SYNC / (syncMs / 1000)

    // Each connection posts for its own packages, so a package's batches go out one after another
    // (batches of one package racing each other would make older updates arrive late: refused).
    const CONNECTIONS = 8
    const round = async (label: string) => {
      const ids: string[] = []
      const lanes: Array<Array<() => Promise<void>>> = Array.from({ length: CONNECTIONS }, () => [])
      const perLane = UPDATES / CONNECTIONS / BATCH
      for (let c = 0; c < CONNECTIONS; c++) {
        const own = tns.filter((_, i) => i % CONNECTIONS === c)
        for (let b = 0; b < perLane; b++) {
          const updates = Array.from({ length: BATCH }, (_, k) => {
            const externalId = `${label}-${c}-${b}-${k}`
            ids.push(externalId)
            return { externalId, trackingNumber: own[(b * BATCH + k) % own.length]!, status: 'in_transit', occurredAt: new Date(t0 + ++minute * 1000).toISOString() }
          })
          lanes[c]!.push(() => post('/status-updates', { updates }, 202))
        }
      }
      const started = performance.now()
      await Promise.all(lanes.map(async (lane) => {
        for (const job of lane) await job()
      }))
      return { ids, acceptedRate: ids.length / ((performance.now() - started) / 1000) }
    }
    const queued = async () => {
      while (((await pool.query('SELECT count(*)::int AS c FROM status_updates WHERE published_at IS NULL')).rows[0].c as number) > 0) await sleep(200)
    }
    const applied = async (label: string, n: number) => {
      const env = { PATH: process.env.PATH, NODE_ENV: 'production', JWT_SECRET: 'bench-secret-0123456789abcdef', LOG_LEVEL: 'warn', DATABASE_URL: dbUrl, AMQP_URL: amqpUrl, REDIS_URL: 'redis://127.0.0.1:6379', HEALTH_PORT: '0' }
      const procs = Array.from({ length: n }, () => spawn(process.execPath, ['--import', 'tsx', 'cmd/worker/main.ts', '--only', 'status-updates'], { cwd: projectRoot(), env, stdio: ['ignore', 'inherit', 'inherit'] }))
      workers.push(...procs)
      // CPU counts from the first settled update on, with the updates settled since.
      let cpu: { pg: () => number; workers: CpuMeter; settled: number } | undefined
      let left: number
      for (;;) {
        const { rows } = await pool.query("SELECT count(*) FILTER (WHERE state = 'queued')::int AS q, count(*)::int AS n FROM status_updates WHERE external_id LIKE $1", [`${label}-%`])
        left = rows[0].n - rows[0].q
        if (!cpu && left > 0) cpu = { pg: pgMeter(), workers: new CpuMeter(pidIn(() => procs.map((p) => p.pid))).start(), settled: left }
        if (rows[0].q === 0) break
        if (procs.some((p) => p.exitCode !== null)) throw new Error('a worker process exited')
        await sleep(250)
      }
      const measured = { updates: left - (cpu?.settled ?? 0), pgS: cpu?.pg() ?? 0, workersS: cpu?.workers.stop() ?? 0 }
      const { rows } = await pool.query("SELECT extract(epoch FROM max(settled_at) - min(settled_at)) * 1000 AS ms, count(*)::int AS n FROM status_updates WHERE external_id LIKE $1", [`${label}-%`])
      for (const p of procs) p.kill('SIGTERM')
      await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r)))))
      return { rate: rows[0].n / (Number(rows[0].ms) / 1000), ...measured }
    }

    console.log(`POST /status-updates: ${UPDATES} updates in batches of ${BATCH}...`)
    // Accepting includes the relay queuing the rows; this process is the gateway and the client.
    const acceptPg = pgMeter()
    const acceptCpu = process.cpuUsage()
    const one = await round('one')
    await queued()
    const acceptCpuS = (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(acceptCpu))
    const acceptPgS = acceptPg()
    // A drain stamps its whole batch with its transaction's start: count the rows of every batch but the last.
    const { rows: relayed } = await pool.query(`
      SELECT count(*) FILTER (WHERE published_at < last)::int AS n, extract(epoch FROM last - first) AS s
      FROM status_updates, (SELECT min(published_at) AS first, max(published_at) AS last FROM status_updates WHERE external_id LIKE 'one-%') b
      WHERE external_id LIKE 'one-%' GROUP BY first, last`)
    const relayRate = relayed[0].n / Number(relayed[0].s)
    console.log('applying with one worker...')
    const oneApplied = await applied('one', 1)
    const oneRate = oneApplied.rate
    const two = await round('two')
    await queued()
    console.log('applying with two workers...')
    const twoApplied = await applied('two', 2)
    const twoRate = twoApplied.rate

    const { rows: order } = await pool.query(`
      SELECT count(*)::int AS violations FROM (
        SELECT occurred_at < lag(occurred_at) OVER (PARTITION BY package_id ORDER BY seq) AS back FROM package_events WHERE type = 'package.status_changed'
      ) s WHERE back`)
    const { rows: refused } = await pool.query("SELECT count(*)::int AS c FROM status_updates WHERE state = 'refused'")
    const { rows: reasons } = await pool.query("SELECT reason, count(*)::int AS c FROM status_updates WHERE state = 'refused' GROUP BY reason ORDER BY c DESC LIMIT 3")
    if (reasons.length > 0) console.log('refusals:', reasons)
    const violations = order[0].violations as number
    const lines = {
      sync: `${fmt(syncRate)} updates/s (${fmt(SYNC)} requests, 32 connections)`,
      accepted: `${fmt(one.acceptedRate)} updates/s (${fmt(two.acceptedRate)} in the second round); ${fmt(one.acceptedRate / BATCH)} requests/s; relayed ${fmt(relayRate)} updates/s`,
      one: `${fmt(oneRate)} updates/s (${fmt(UPDATES)} updates, ${PACKAGES} packages)`,
      two: `${fmt(twoRate)} updates/s (${fmt(UPDATES)} updates)`,
    }
    const asyncPgS = acceptPgS / UPDATES + oneApplied.pgS / oneApplied.updates
    const cpuLines = {
      pg: `sync ${usPer(syncPgS, SYNC)}; accepted ${usPer(acceptPgS, UPDATES)}; applied: one worker ${usPer(oneApplied.pgS, oneApplied.updates)}, two ${usPer(twoApplied.pgS, twoApplied.updates)} (load ${loadAvg})`,
      pgPerCore: `per core: ${perCore(syncPgS, SYNC)} sync, ${perCore(asyncPgS, 1)} accepted + applied`,
      worker: `one worker ${usPer(oneApplied.workersS, oneApplied.updates)}, two ${usPer(twoApplied.workersS, twoApplied.updates)}; gateway and client process ${usPer(acceptCpuS, UPDATES)} per accepted update`,
      workerPerCore: `per core: ${perCore(oneApplied.workersS, oneApplied.updates)} applied/s (worker), ${perCore(acceptCpuS, UPDATES)} accepted/s (gateway, at least)`,
    }
    console.log(lines, cpuLines, { violations, refused: refused[0].c })
    await gw.app.close()
    await statusQueue.close()
    await bus.close()
    if (process.env.BENCH_NO_DOCS !== '1') {
      writeResults('npm run bench:status-updates', [
        { figure: 'baseline: synchronous POST /packages/:tn/status, in_transit checkpoints over 200 packages', value: lines.sync, baseline: 'baseline', target: 'informative' },
        { figure: 'accepted: POST /status-updates, batches of 100, 8 connections (each its own packages), no worker running', value: lines.accepted, baseline: `${(one.acceptedRate / syncRate).toFixed(1)}x the synchronous route`, target: 'informative' },
        { figure: 'applied by one `status-updates` worker process (first to last settled_at)', value: lines.one, baseline: `${(oneRate / syncRate).toFixed(2)}x the synchronous route`, target: 'informative' },
        { figure: 'applied by two worker processes', value: lines.two, baseline: `${(twoRate / oneRate).toFixed(2)}x one worker`, target: 'informative' },
        { figure: 'PostgreSQL CPU (/proc) per update', value: cpuLines.pg, baseline: cpuLines.pgPerCore, target: 'informative' },
        { figure: 'worker CPU (/proc) per applied update; gateway CPU per accepted', value: cpuLines.worker, baseline: cpuLines.workerPerCore, target: 'informative' },
        { figure: 'ordering violations (a status event older than the one before it) / updates refused', value: `${violations} / ${refused[0].c}`, target: `0 / 0: ${violations === 0 && refused[0].c === 0 ? 'PASS' : 'FAIL'}` },
      ])
    }
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL')
    await pool.end()
    redis.disconnect()
    await recreateDatabase(PG_ADMIN, db, false).catch(() => undefined)
    recreateVhost(vhost, false)
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
