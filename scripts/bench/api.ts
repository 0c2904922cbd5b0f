/**
 * `npm run bench:api`: HTTP throughput and latency of the gateway's hot routes
 * against the production build, next to the ceiling of a bare Fastify route.
 *
 * One run: build, (1) the ceiling (scripts/bench/bare-server.js), then the gateway
 * (`node dist/cmd/gateway/main.js`) on a fresh database with (2) GET /track/:tn on
 * a cache hit, (3) GET /packages/:tn with an admin JWT, (4) POST
 * /packages/:tn/status checkpoints as fast as answered and (5) the same at the
 * target's 1,500 req/s offered (its latency at that rate). During (4) and (5) a stand-in for the
 * workers (worker-stand-in.js) consumes the gateway's durable worker queues and acknowledges as
 * the workers do, without their work (only in the run's own vhost: acknowledging removes messages);
 * (6) repeats (5) with the stand-in stopped, so no worker runs and RabbitMQ keeps a growing backlog. Servers run as child processes with the
 * same NODE_ENV, node flags and log level (the gateway keeps its rate limits on, raised so that
 * nothing is refused); the load (autocannon for the flat-out
 * runs, an evenly paced raw HTTP/1.1 client (raw-http.ts) for the paced ones) runs in this process.
 * Prints a table, the target verdicts (informative), and replaces the rows of
 * bench:api in docs/benchmarks.md.
 *
 * Exits non-zero only when something crashes or a measured request is not 2xx.
 * The parts: api-settings.ts (the environment below), api-servers.ts (child
 * processes and setup), api-load.ts (driving and measuring a route), api-sampling.ts
 * (where the CPU went) and api-report.ts (verdicts, tables, docs).
 *
 * Environment (all optional):
 *   BENCH_DURATION_S (10)        seconds measured per route
 *   BENCH_WARMUP_S (3)           seconds of warm-up per route, not measured
 *   BENCH_CONNECTIONS (100)      autocannon connections
 *   BENCH_LOG_LEVEL (warn)       LOG_LEVEL of both servers
 *   BENCH_NODE_FLAGS ('')        node flags for both servers, space-separated
 *   BENCH_CPU_PROF_DIR           if set, both servers run with --cpu-prof into this folder
 *   BENCH_ONLY                   comma list of ceiling,track,get,status,status-paced,status-paced-nowork (partial runs skip the docs)
 *   BENCH_STATUS_RATE (1500)     offered req/s of the paced status-update run (even, open-loop)
 *   BENCH_READ_PACKAGES (100)    packages the read routes rotate over
 *   BENCH_WRITE_PACKAGES (200)   packages the status updates rotate over
 *   BENCH_DB (delivertrack_bench) database dropped and created for the gateway
 *   BENCH_PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_REDIS_URL (redis://127.0.0.1:6379/15) a logical database of its own; never flushed
 *   BENCH_AMQP_VHOST (delivertrack_bench) RabbitMQ vhost re-created (rabbitmqctl) for the run and deleted
 *                                after it, so bench events never reach the shared vhost's worker queues
 *   BENCH_AMQP_URL               use this broker URL as is instead (no vhost handling)
 *   BENCH_QUIET_CORES (0.3)      before each measurement wait until the machine is this idle ...
 *   BENCH_QUIET_WAIT_S (90)      ... for at most this long
 *   BENCH_RETRIES (2)            re-measure a route when other processes took > 0.25 cores meanwhile
 *   BENCH_SKIP_BUILD=1           do not run `npm run build` first
 *   BENCH_NO_DOCS=1              do not touch docs/benchmarks.md
 *   BENCH_GATEWAY_ENV            extra gateway environment, space-separated NAME=value pairs (e.g. DATABASE_POOL_MAX=50);
 *                                a run with it is a variant and leaves docs/benchmarks.md alone
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { loadConfig } from '../../internal/config/config.js'
import { parseRoles, roleQueues, type WorkerRole } from '../../internal/events/topology.js'
import { archivePrefetch } from '../../internal/app/bus.js'
import { closePacedPools, measure, type Measured } from './api-load.js'
import { machineLine, printReport, settingsLine, verdicts, writeDocs } from './api-report.js'
import { api, build, freshDatabase, freshVhost, killAllNow, pool, startServer, waitForBroker, type Child } from './api-servers.js'
import { fmtInt, gatewayDbUrl, log, partial, ROOT, RUN_ID, runs, S, variant, type Phase } from './api-settings.js'
import { HOST, recreateVhost, stopNode } from './support.js'

async function main(): Promise<number> {
  log(`machine: ${machineLine()}`)
  log(`settings: ${settingsLine()}`)
  if (variant) log(`variant run: gateway env ${JSON.stringify(S.gatewayEnv)}`)
  build()

  const results = new Map<Phase, Measured>()
  const sampler = new Redis(S.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  sampler.on('error', () => undefined)
  let redis: Redis | undefined
  try {
    await sampler.connect()
    redis = sampler
  } catch (err) {
    log(`Redis at ${S.redisUrl} is not answering (${(err as Error).message}); the gateway will fail to start`)
  }

  const trackNumbers: string[] = []
  let vhost: { url: string; created: boolean } | undefined
  try {
    // (1) the ceiling
    if (runs('ceiling')) {
      const bare = await startServer('bare', join(ROOT, 'scripts/bench/bare-server.js'), {}, '/')
      try {
        results.set('ceiling', await measure('ceiling', 'ceiling: bare Fastify GET /', { port: bare.port, method: 'GET', paths: ['/'] }, { server: bare.proc.pid! }, redis))
      } finally {
        await stopNode(bare)
      }
    }

    if (runs('track') || runs('get') || runs('status') || runs('status-paced') || runs('status-paced-nowork')) {
      await freshDatabase()
      vhost = S.amqpUrl ? { url: S.amqpUrl, created: false } : freshVhost()
      const adminEmail = 'bench-admin@example.com'
      const adminPassword = randomBytes(12).toString('base64url')
      const gw = await startServer(
        'gateway',
        join(ROOT, 'dist/cmd/gateway/main.js'),
        {
          DATABASE_URL: gatewayDbUrl,
          REDIS_URL: S.redisUrl,
          JWT_SECRET: randomBytes(24).toString('base64url'),
          JWT_ACCESS_TTL_S: '7200',
          ADMIN_EMAIL: adminEmail,
          ADMIN_PASSWORD: adminPassword,
          RATE_LIMIT_MAX: '1000000000',
          RATE_LIMIT_TRACK_MAX: '1000000000',
          CACHE_TTL_S: '3600',
          AMQP_URL: vhost.url,
          ...S.gatewayEnv,
        },
        '/health',
      )
      try {
        const base = `http://${HOST}:${gw.port}/api/v1`
        await waitForBroker(`http://${HOST}:${gw.port}`)
        const login = await api<{ accessToken: string }>(base, 'POST', '/auth/login', { email: adminEmail, password: adminPassword })
        const token = login.accessToken
        const auth = { authorization: `Bearer ${token}` }

        const readTns = Array.from({ length: S.readPackages }, (_, i) => `BR${RUN_ID}${String(i).padStart(5, '0')}`)
        const writeTns = Array.from({ length: S.writePackages }, (_, i) => `BW${RUN_ID}${String(i).padStart(5, '0')}`)
        trackNumbers.push(...readTns, ...writeTns)
        log(`seeding ${readTns.length + writeTns.length} packages through the API (status in_transit)`)
        await pool([...readTns, ...writeTns], 16, async (tn) => {
          await api(base, 'POST', '/packages', {
            trackingNumber: tn,
            carrier: 'delivertrack',
            description: 'benchmark parcel',
            weightGrams: 1200,
            sender: { name: 'Bench Sender', address: '1 Load Street, Testville' },
            recipient: { name: 'Bench Recipient', address: '2 Latency Road, Testville', email: 'recipient@example.com' },
          }, token)
          await api(base, 'POST', `/packages/${tn}/status`, { status: 'in_transit', note: 'picked up' }, token)
        })
        log('warming the cache (one GET per package and route)')
        await pool(readTns, 16, async (tn) => {
          await api(base, 'GET', `/track/${tn}`)
          await api(base, 'GET', `/packages/${tn}`, undefined, token)
        })

        // (2) public tracking on a cache hit
        if (runs('track')) {
          results.set('track', await measure('track', 'GET /api/v1/track/:tn (cache hit)', { port: gw.port, method: 'GET', paths: readTns.map((tn) => `/api/v1/track/${tn}`) }, { server: gw.proc.pid! }, redis))
        }
        // (3) authenticated read
        if (runs('get')) {
          results.set('get', await measure('get', 'GET /api/v1/packages/:tn (admin JWT)', { port: gw.port, method: 'GET', paths: readTns.map((tn) => `/api/v1/packages/${tn}`), headers: auth }, { server: gw.proc.pid! }, redis))
        }
        // The workers' queues are consumed while status updates are measured, as running workers would.
        const statusTarget = {
          port: gw.port,
          method: 'POST' as const,
          paths: writeTns.map((tn) => `/api/v1/packages/${tn}/status`),
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ status: 'in_transit', note: 'checkpoint' }),
        }
        // The gateway's settings as the workers would read them (their defaults, or BENCH_GATEWAY_ENV's).
        const workerConfig = loadConfig(S.gatewayEnv)
        const roles = parseRoles(workerConfig.WORKER_QUEUES)
        let standIn: Child | undefined
        let standInPid: number | undefined
        if ((runs('status') || runs('status-paced')) && roles.length > 0) {
          // It acknowledges (so removes) messages: only ever in the run's own vhost, never in a shared one.
          if (!vhost.created) {
            log('no worker stand-in: the broker is not a vhost of this run (BENCH_AMQP_URL, or rabbitmqctl failed), and it would consume others\' messages; the worker queues fill')
          } else {
            const name = (role: WorkerRole) => (roles.includes(role) ? roleQueues(role, []).work : '')
            standIn = await startServer('worker-stand-in', join(ROOT, 'scripts/bench/worker-stand-in.js'), {
              AMQP_URL: vhost.url,
              ARCHIVE_QUEUE: name('archive'),
              ARCHIVE_PREFETCH: String(archivePrefetch(workerConfig.ARCHIVE_BATCH_SIZE)),
              ARCHIVE_BATCH_SIZE: String(workerConfig.ARCHIVE_BATCH_SIZE),
              ARCHIVE_BATCH_AGE_MS: String(workerConfig.ARCHIVE_BATCH_AGE_MS),
              QUEUES: [name('notify'), name('webhooks')].filter(Boolean).join(','),
              WORKER_PREFETCH: String(workerConfig.WORKER_PREFETCH),
            }, '/ready')
            standInPid = standIn.proc.pid
            log(`worker stand-in consuming the queues of ${roles.join(', ')} (archive: ${workerConfig.ARCHIVE_BATCH_SIZE} per acknowledgement)`)
          }
        }
        const checkStandIn = async () => {
          if (!standIn) return
          if (standIn.proc.exitCode !== null || standIn.proc.signalCode !== null) {
            throw new Error(`the worker stand-in exited during the run (${standIn.proc.exitCode ?? standIn.proc.signalCode}):\n${standIn.output()}`)
          }
          const res = await fetch(`http://${HOST}:${standIn.port}/ready`)
          const { acked, depth } = (await res.json()) as { acked: number; depth?: Record<string, number> }
          log(`  worker stand-in: ${fmtInt(acked)} messages acknowledged so far; waiting in the queues now: ${JSON.stringify(depth ?? {})}`)
        }
        // (4) status checkpoints, in_transit -> in_transit, spread over the write packages
        if (runs('status')) {
          results.set('status', await measure('status', 'POST /api/v1/packages/:tn/status', statusTarget, { server: gw.proc.pid!, standIn: standInPid }, redis))
          await checkStandIn()
        }
        // (5) the same at the target rate, to read its latency there (not flat out)
        if (runs('status-paced')) {
          results.set('status-paced', await measure('status-paced', `POST /api/v1/packages/:tn/status at ${fmtInt(S.statusRate)} req/s offered`, { ...statusTarget, rate: S.statusRate }, { server: gw.proc.pid!, standIn: standInPid }, redis))
          await checkStandIn()
        }
        if (standIn) {
          await stopNode(standIn)
          standInPid = undefined
        }
        // (6) the same with no worker consuming: the worker queues only grow
        if (runs('status-paced-nowork')) {
          if (roles.length === 0) log('WORKER_QUEUES=none: no worker queue exists, so the last run is the paced run again')
          const label = `POST /api/v1/packages/:tn/status at ${fmtInt(S.statusRate)} req/s offered, no worker (queues fill)`
          results.set('status-paced-nowork', await measure('status-paced-nowork', label, { ...statusTarget, rate: S.statusRate }, { server: gw.proc.pid!, standIn: standInPid }, redis))
        }
        closePacedPools()
        if (gw.proc.exitCode !== null) throw new Error(`the gateway exited during the run:\n${gw.output()}`)
        const out = gw.output().trim()
        if (out) log(`gateway output (last lines):\n${out.split('\n').slice(-10).join('\n')}`)
      } finally {
        await stopNode(gw)
      }
    }
  } finally {
    killAllNow()
    if (redis && trackNumbers.length > 0) {
      // No FLUSH: delete only this run's keys, i.e. those naming its tracking numbers (all contain RUN_ID);
      // rate-limit counters expire within a minute.
      try {
        let cursor = '0'
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `*${RUN_ID}*`, 'COUNT', 1000)
          if (keys.length > 0) await redis.del(...keys)
          cursor = next
        } while (cursor !== '0')
      } catch (err) {
        log(`could not delete this run's Redis keys: ${(err as Error).message}`)
      }
    }
    sampler.disconnect()
    if (vhost?.created) {
      recreateVhost(S.amqpVhost, false)
      log(`RabbitMQ vhost ${S.amqpVhost} deleted`)
    }
  }

  // ---- report
  const vs = verdicts(results)
  printReport(results, vs)

  if (S.noDocs || partial) log(`docs/benchmarks.md left alone (${S.noDocs ? 'BENCH_NO_DOCS=1' : 'partial, profiled or variant run'})`)
  else writeDocs(results)

  const bad = [...results.values()].filter((m) => m.non2xx > 0 || m.errors > 0)
  if (bad.length > 0) {
    console.error(`[bench:api] non-2xx answers or errors on: ${bad.map((m) => `${m.label} (${m.non2xx} non-2xx, ${m.errors} errors)`).join('; ')}`)
    return 1
  }
  return 0
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('[bench:api] failed:', err instanceof Error ? err.message : err)
    killAllNow()
    process.exit(1)
  },
)
