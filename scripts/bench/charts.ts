/**
 * `npm run bench:charts`: GET /api/v1/metrics/orders-by-day over a year whose
 * aggregates hold 1 million packages (issue 18: p99 under 50 ms), and why it
 * holds: the query plan reads the day aggregates by their primary key.
 *
 * In a PostgreSQL schema of its own (dropped at the end) the tables of migration
 * 0014 are seeded with generate_series: BENCH_CHARTS_PACKAGES packages (1,000,000)
 * created over the measured year, plus BENCH_CHARTS_HISTORY_YEARS earlier years
 * (2) of the same volume in the day tables, 200 drivers' day rows with each
 * delivery's accept-to-delivered seconds, and the per-package counting state of
 * the measured year's packages. The packages and events themselves are not seeded:
 * the reads never touch them.
 *
 * Measured one request at a time, BENCH_CHARTS_REQUESTS (2,000) each after a
 * warm-up: the route on the gateway's bare server (inject: validation, ChartsService,
 * PostgresMetricsReader, serialization), its SQL alone on the same pool, and the
 * same pool's `SELECT 1` round trip, the floor the others are compared with.
 * GET /metrics/drivers over the same year is informative. Prints the EXPLAIN
 * (ANALYZE, BUFFERS) plan and replaces the rows of bench:charts in
 * docs/benchmarks.md (not with BENCH_NO_DOCS=1).
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { chartRoutes } from '../../internal/charts/http.js'
import { ORDERS_BY_DAY_SQL, PostgresMetricsReader } from '../../internal/charts/postgres-reads.js'
import { ChartsService } from '../../internal/charts/service.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { createPool } from '../../internal/platform/db/postgres.js'
import { createServer } from '../../internal/platform/http/server.js'
import { assertLocal, percentile, waitQuiet, writeResults } from './support.js'

const num = (name: string, def: number) => Number(process.env[name] || def)
const PACKAGES = num('BENCH_CHARTS_PACKAGES', 1_000_000)
const HISTORY_YEARS = num('BENCH_CHARTS_HISTORY_YEARS', 2)
const REQUESTS = num('BENCH_CHARTS_REQUESTS', 2_000)
const DRIVERS = 200
const TARGET_P99_MS = 50
const PG = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const schema = `bench_charts_${randomBytes(4).toString('hex')}`
const FROM = '2025-01-01'
const TO = '2025-12-31'
const log = (m: string) => console.log(`[bench:charts] ${m}`)

/** One year of activity per seeded year: created spread evenly, 94% delivered, 4% failed attempts, 2% exceptions, 88% on time. */
async function seed(pool: pg.Pool): Promise<void> {
  const perDay = Math.round(PACKAGES / 365)
  const first = `${2025 - HISTORY_YEARS}-01-01`
  await pool.query(
    `INSERT INTO metrics_orders_by_day (day, created, delivered, failed_attempts, exceptions, delivered_estimated, delivered_on_time)
     SELECT d::date, $3 + (extract(doy FROM d)::int % 7) * 10, $3 * 94 / 100, $3 * 4 / 100, $3 * 2 / 100, $3 * 90 / 100, $3 * 80 / 100
     FROM generate_series($1::date, $2::date, interval '1 day') d`,
    [first, TO, perDay - 30],
  )
  // Each driver-day keeps its deliveries' seconds: PACKAGES * 0.94 deliveries a year over the drivers.
  const perDriverDay = Math.max(1, Math.round((PACKAGES * 0.94) / 365 / DRIVERS))
  await pool.query(
    `INSERT INTO metrics_driver_day (driver_id, day, delivered, delivered_estimated, delivered_on_time, accept_to_delivered_s)
     SELECT md5('driver' || n)::uuid, d::date, $3, $3 * 9 / 10, $3 * 8 / 10,
            ARRAY(SELECT 600 + ((n * 7919 + k * 104729 + extract(doy FROM d)::int) % 14400) FROM generate_series(1, $3) k)
     FROM generate_series(1, $4) n, generate_series($1::date, $2::date, interval '1 day') d`,
    [first, TO, perDriverDay, DRIVERS],
  )
  await pool.query(
    `INSERT INTO metrics_packages (package_id, counted_seq, external, estimated_day, driver_id, accepted_at)
     SELECT md5('package' || n)::uuid, 6, false, $1::date + (n % 365), md5('driver' || (n % $2))::uuid, $1::timestamptz + (n % 365) * interval '1 day'
     FROM generate_series(1, $3) n`,
    [FROM, DRIVERS, PACKAGES],
  )
  await pool.query('ANALYZE metrics_orders_by_day; ANALYZE metrics_driver_day; ANALYZE metrics_packages')
}

/** Latencies in ms of `n` sequential calls, after `n / 10` unmeasured ones. */
async function timed(n: number, call: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.ceil(n / 10); i++) await call()
  const ms: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await call()
    ms.push(performance.now() - t0)
  }
  return ms.sort((a, b) => a - b)
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1))
const summary = (ms: number[]) => `p50 ${fmt(percentile(ms, 50))}, p95 ${fmt(percentile(ms, 95))}, p99 ${fmt(percentile(ms, 99))} ms (n ${ms.length.toLocaleString('en-US')})`

async function main(): Promise<void> {
  assertLocal(PG)
  const admin = new pg.Client({ connectionString: PG })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  const pool = createPool({ url: PG, schema: `${schema},public`, max: 4 })
  try {
    await migrate(pool)
    const seedStart = performance.now()
    await seed(pool)
    const sizes = await pool.query<{ t: string; rows: string }>(
      `SELECT 'metrics_orders_by_day' AS t, count(*) AS rows FROM metrics_orders_by_day UNION ALL SELECT 'metrics_driver_day', count(*) FROM metrics_driver_day UNION ALL SELECT 'metrics_packages', count(*) FROM metrics_packages`,
    )
    const seeded = sizes.rows.map((r) => `${r.t} ${Number(r.rows).toLocaleString('en-US')}`).join(', ')
    log(`seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s: ${seeded}`)
    const year = await pool.query<{ created: string }>('SELECT sum(created) AS created FROM metrics_orders_by_day WHERE day BETWEEN $1 AND $2', [FROM, TO])
    log(`packages created in ${FROM}..${TO}: ${Number(year.rows[0]!.created).toLocaleString('en-US')}`)

    const plan = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${ORDERS_BY_DAY_SQL}`, [FROM, TO])).rows.map((r) => r['QUERY PLAN'])
    console.log(`\nEXPLAIN (ANALYZE, BUFFERS) orders-by-day ${FROM}..${TO}:\n${plan.map((l) => `  ${l}`).join('\n')}\n`)
    const access = plan.map((l) => l.trim().replace(/^->\s*/, '').replace(/\s*\(actual .*$/, '')).find((l) => /Scan .*on metrics_orders_by_day\b/.test(l)) ?? 'no scan of metrics_orders_by_day found'
    const byIndex = /Index (Only )?Scan/.test(access)

    // The gateway's own bare server (error schema, headers, validators), without authentication.
    const app = await createServer({ logLevel: 'silent', bodyLimit: 1_048_576, version: 'bench' })
    await app.register(chartRoutes, { charts: new ChartsService({ reader: new PostgresMetricsReader(pool) }), prefix: '/api/v1' })
    await app.ready()
    const route = async (url: string) => {
      const res = await app.inject({ method: 'GET', url })
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
      return res
    }
    const days = (await route(`/api/v1/metrics/orders-by-day?from=${FROM}&to=${TO}`)).json<{ items: unknown[] }>().items.length

    await waitQuiet(0.5, 60, log)
    const floor = await timed(REQUESTS, () => pool.query('SELECT 1'))
    const sql = await timed(REQUESTS, () => pool.query(ORDERS_BY_DAY_SQL, [FROM, TO]))
    const http = await timed(REQUESTS, () => route(`/api/v1/metrics/orders-by-day?from=${FROM}&to=${TO}`))
    const drivers = await timed(Math.max(20, Math.round(REQUESTS / 40)), () => route(`/api/v1/metrics/drivers?from=${FROM}&to=${TO}`))
    await app.close()

    const p99 = percentile(http, 99)
    const ratio = (ms: number[]) => `p99 ${(percentile(ms, 99) / percentile(floor, 99)).toFixed(1)}x the floor's`
    const pass = p99 < TARGET_P99_MS && byIndex
    console.log(`floor, SELECT 1 on the same pool:           ${summary(floor)}`)
    console.log(`orders-by-day SQL, ${days} days:             ${summary(sql)}  (${ratio(sql)})`)
    console.log(`GET /metrics/orders-by-day, ${days} days:    ${summary(http)}  (${ratio(http)})`)
    console.log(`GET /metrics/drivers, ${DRIVERS} drivers, a year: ${summary(drivers)}`)
    console.log(`aggregates read by: ${access}`)
    console.log(`target p99 < ${TARGET_P99_MS} ms, by index: ${pass ? 'PASS' : 'FAIL'}`)

    if (process.env.BENCH_NO_DOCS === '1') return void log('docs/benchmarks.md left alone (BENCH_NO_DOCS=1)')
    const scale = `${PACKAGES.toLocaleString('en-US')} packages' aggregates in the year`
    writeResults('npm run bench:charts', [
      { figure: 'floor: SELECT 1 on the same pool, one at a time', value: summary(floor), baseline: 'baseline' },
      { figure: `GET /api/v1/metrics/orders-by-day over ${days} days, ${scale}, one at a time (inject)`, value: summary(http), baseline: ratio(http), target: `p99 < ${TARGET_P99_MS} ms, read by index: ${pass ? 'PASS' : 'FAIL'}` },
      { figure: 'its SQL alone', value: summary(sql), baseline: ratio(sql), target: 'informative' },
      { figure: 'plan: how the day aggregates are read', value: access, target: 'informative' },
      { figure: `GET /api/v1/metrics/drivers over the year, ${DRIVERS} drivers (${seeded})`, value: summary(drivers), baseline: ratio(drivers), target: 'informative' },
    ])
    log('wrote its rows in docs/benchmarks.md')
  } finally {
    await pool.end()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema}_dispatch, ${schema} CASCADE`).catch(() => undefined)
    await admin.end()
  }
}

await main()
