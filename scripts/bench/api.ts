/**
 * `npm run bench:api`: HTTP throughput and latency of the gateway's hot routes
 * against the production build, next to the ceiling of a bare Fastify route, in
 * both of the gateway's modes in one run.
 *
 * One run: build, (1) the ceiling (scripts/bench/bare-server.js), then the services
 * pass: the gateway (`node dist/cmd/gateway/main.js`) on PostgreSQL (a fresh database),
 * Redis and RabbitMQ (a vhost of the run's own) with (2) GET /track/:tn on a cache hit,
 * (3) GET /packages/:tn with an admin JWT, (4) POST /packages/:tn/status checkpoints as
 * fast as answered and (5) the same at the target's 1,500 req/s offered (its latency at
 * that rate). During (4) and (5) a stand-in for the workers (worker-stand-in.js) consumes
 * the gateway's durable worker queues and acknowledges as the workers do, without their
 * work (only in the run's own vhost: acknowledging removes messages); (6) repeats (5)
 * with the stand-in stopped, so no worker runs and RabbitMQ keeps a growing backlog.
 * Then the embedded pass: the same gateway with no service URLs on a fresh DATA_DIR
 * (PGlite, memory stores, the in-process bus, the worker roles in its own process, as
 * `make run` gives), seeded the same way through its API, with (2)-(5); (5) is paced at
 * 80% of what (4) answered when that is below the target rate. Servers run as child
 * processes with the same NODE_ENV, node flags and log level (the gateway keeps its rate
 * limits on, raised so that nothing is refused); the load (autocannon for the flat-out
 * runs, an evenly paced raw HTTP/1.1 client (raw-http.ts) for the paced ones) runs in this process.
 * Prints a table, the target verdicts (informative), the embedded figures as a ratio of
 * the services ones (issue 16 aims at least half), and replaces the rows of bench:api in
 * docs/benchmarks.md.
 *
 * Exits non-zero only when something crashes or a measured request is not 2xx.
 * The parts: api-settings.ts (the environment below), api-servers.ts (child
 * processes and setup), api-pass.ts (each mode's scenarios), api-load.ts (driving and
 * measuring a route), api-sampling.ts (where the CPU went), api-compare.ts (the modes
 * compared) and api-report.ts (verdicts, tables, docs).
 *
 * Environment (all optional):
 *   BENCH_DURATION_S (10)        seconds measured per route
 *   BENCH_WARMUP_S (3)           seconds of warm-up per route, not measured
 *   BENCH_CONNECTIONS (100)      autocannon connections
 *   BENCH_LOG_LEVEL (warn)       LOG_LEVEL of both servers
 *   BENCH_NODE_FLAGS ('')        node flags for both servers, space-separated
 *   BENCH_CPU_PROF_DIR           if set, both servers run with --cpu-prof into this folder
 *   BENCH_ONLY                   comma list of ceiling,track,get,status,status-paced,status-paced-nowork (partial runs skip the docs)
 *   BENCH_MODES                  comma list of services,embedded (both by default; one alone skips the docs)
 *   BENCH_STATUS_RATE (1500)     offered req/s of the paced status-update run (even, open-loop)
 *   BENCH_READ_PACKAGES (100)    packages the read routes rotate over
 *   BENCH_WRITE_PACKAGES (200)   packages the status updates rotate over
 *   BENCH_DB (delivertrack_bench) database dropped and created for the services gateway
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
 *   BENCH_GATEWAY_ENV            extra gateway environment, space-separated NAME=value pairs (e.g. DATABASE_POOL_MAX=50),
 *                                for both modes; a run with it is a variant and leaves docs/benchmarks.md alone
 */
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { measure } from './api-load.js'
import type { Results } from './api-compare.js'
import { embeddedPass, servicesPass } from './api-pass.js'
import { machineLine, printReport, settingsLine, verdicts, writeDocs } from './api-report.js'
import { build, killAllNow, startServer } from './api-servers.js'
import { log, partial, ROOT, runs, runsMode, S, variant } from './api-settings.js'
import { stopNode } from './support.js'

const GATEWAY_PHASES = ['track', 'get', 'status', 'status-paced', 'status-paced-nowork'] as const

async function main(): Promise<number> {
  log(`machine: ${machineLine()}`)
  log(`settings: ${settingsLine()}`)
  if (variant) log(`variant run: gateway env ${JSON.stringify(S.gatewayEnv)}`)
  build()

  const results: Results = { passes: { services: new Map(), embedded: new Map() } }
  const gatewayPhases = GATEWAY_PHASES.some(runs)
  const sampler = new Redis(S.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  sampler.on('error', () => undefined)
  let redis: Redis | undefined
  if (runsMode('services') && gatewayPhases) {
    try {
      await sampler.connect()
      redis = sampler
    } catch (err) {
      log(`Redis at ${S.redisUrl} is not answering (${(err as Error).message}); the services gateway will fail to start`)
    }
  }

  try {
    // (1) the ceiling, once for both modes
    if (runs('ceiling')) {
      const bare = await startServer('bare', join(ROOT, 'scripts/bench/bare-server.js'), {}, '/')
      try {
        results.ceiling = await measure('ceiling', 'ceiling: bare Fastify GET /', { port: bare.port, method: 'GET', paths: ['/'] }, { server: bare.proc.pid! }, redis)
      } finally {
        await stopNode(bare)
      }
    }
    if (gatewayPhases && runsMode('services')) results.passes.services = await servicesPass(redis)
    if (gatewayPhases && runsMode('embedded')) results.passes.embedded = await embeddedPass()
  } finally {
    killAllNow()
    sampler.disconnect()
  }

  // ---- report
  const vs = verdicts(results)
  printReport(results, vs)

  if (S.noDocs || partial) log(`docs/benchmarks.md left alone (${S.noDocs ? 'BENCH_NO_DOCS=1' : 'partial, one-mode, profiled or variant run'})`)
  else writeDocs(results)

  const bad = [...results.passes.services.values(), ...results.passes.embedded.values(), ...(results.ceiling ? [results.ceiling] : [])].filter((m) => m.non2xx > 0 || m.errors > 0)
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
