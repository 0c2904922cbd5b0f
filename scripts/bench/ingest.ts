/**
 * `npm run bench:ingest`: location ingest into the PostgreSQL adapter through the
 * production build, next to the raw multi-row INSERT of the same points.
 *
 * One run: build, a fresh database and RabbitMQ vhost, the gateway
 * (`node dist/cmd/gateway/main.js`), BENCH_DEVICES packages with one device each
 * (created through the REST API), then (1) every device posts BENCH_BATCH-point
 * batches with its API key, each as soon as the last one was answered (capacity),
 * then (2) paced to offer BENCH_TARGET_PPS points/s (latency at the target load),
 * each for BENCH_DURATION_S; (3) with the gateway stopped, the same number of writers send
 * the same kind of batches straight to PostgreSQL as one multi-row
 * `INSERT ... ON CONFLICT DO NOTHING` each, over a pool as large as the gateway's:
 * the ceiling. Prints points/s, batch latency and the ratio, and writes the
 * rows of bench:ingest in docs/benchmarks.md.
 *
 * Environment (all optional):
 *   BENCH_DURATION_S (30)   seconds measured per phase       BENCH_WARMUP_S (3) not measured
 *   BENCH_DEVICES (100)     concurrent devices / writers     BENCH_BATCH (100) points per batch
 *   BENCH_DB (delivertrack_bench_ingest)  database dropped and created (and dropped after)
 *   BENCH_PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_REDIS_URL (redis://127.0.0.1:6379/14)   BENCH_AMQP_VHOST (delivertrack_bench_ingest)
 *   BENCH_TARGET_PPS (20000) points/s the paced phase offers
 *   BENCH_POOL (20)         PostgreSQL connections of the gateway and of the raw writers
 *   BENCH_QUIET_CORES (0.5) wait (at most 60 s) for the machine to be this idle before each phase
 *   BENCH_NODE_FLAGS        node flags for the gateway, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   BENCH_SKIP_BUILD=1      use the existing dist/      BENCH_NO_DOCS=1 leave docs/benchmarks.md alone
 */
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import http from 'node:http'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { assertLocal, busyCores, HOST, machineLine, percentile, recreateDatabase, recreateVhost, sleep, startNode, stopNode, waitQuiet, writeResults, type Child } from './support.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const env = process.env
const num = (name: string, def: number) => {
  const n = Number(env[name]?.trim() || def)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${env[name]}")`)
  return n
}
const S = {
  durationS: num('BENCH_DURATION_S', 30),
  warmupS: num('BENCH_WARMUP_S', 3),
  devices: Math.round(num('BENCH_DEVICES', 100)),
  batch: Math.min(1000, Math.round(num('BENCH_BATCH', 100))),
  pool: Math.round(num('BENCH_POOL', 20)),
  quietCores: num('BENCH_QUIET_CORES', 0.5),
  targetPps: num('BENCH_TARGET_PPS', 20_000),
  db: env.BENCH_DB?.trim() || 'delivertrack_bench_ingest',
  pgAdminUrl: env.BENCH_PG_ADMIN_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: env.BENCH_REDIS_URL?.trim() || 'redis://127.0.0.1:6379/14',
  vhost: env.BENCH_AMQP_VHOST?.trim() || 'delivertrack_bench_ingest',
  skipBuild: env.BENCH_SKIP_BUILD === '1',
  noDocs: env.BENCH_NO_DOCS === '1',
}
if (!/^[a-z_][a-z0-9_]*$/.test(S.db)) throw new Error(`BENCH_DB must be a plain identifier (got "${S.db}")`)
if (!/^[A-Za-z0-9_.-]+$/.test(S.vhost)) throw new Error(`BENCH_AMQP_VHOST must be a plain name (got "${S.vhost}")`)
for (const url of [S.pgAdminUrl, S.redisUrl]) assertLocal(url)
const dbUrl = (() => {
  const u = new URL(S.pgAdminUrl)
  u.pathname = `/${S.db}`
  return u.toString()
})()
const log = (m: string) => console.log(`[bench:ingest] ${m}`)
const pacedIntervalMs = (S.devices * S.batch * 1000) / S.targetPps
const ADMIN = { email: 'bench-admin@example.com', password: 'bench-admin-password' }

// ---------------------------------------------------------------- simulated devices

interface Point {
  lat: number
  lng: number
  recordedAt: string
  accuracyM: number
  speedMps: number
  headingDeg: number
}

/** A device driving at ~20 m/s, one fix a second, starting two days ago (never in the future). */
class Track {
  private lat = 45 + Math.random() * 10
  private lng = Math.random() * 20
  private heading = Math.random() * 360
  private t = Date.now() - 2 * 86_400_000 - Math.floor(Math.random() * 1_000) * 1000
  constructor(readonly id: string, readonly key: string, readonly packageId: string) {}

  next(n: number): Point[] {
    const out: Point[] = []
    for (let i = 0; i < n; i++) {
      this.heading = (this.heading + (Math.random() - 0.5) * 10 + 360) % 360
      const rad = (this.heading * Math.PI) / 180
      this.lat = Math.max(-89, Math.min(89, this.lat + (20 * Math.cos(rad)) / 111_320))
      this.lng = ((this.lng + (20 * Math.sin(rad)) / (111_320 * Math.cos((this.lat * Math.PI) / 180)) + 540) % 360) - 180
      this.t += 1000
      out.push({ lat: +this.lat.toFixed(6), lng: +this.lng.toFixed(6), recordedAt: new Date(this.t).toISOString(), accuracyM: 5, speedMps: 20, headingDeg: +this.heading.toFixed(1) })
    }
    return out
  }
}

// ---------------------------------------------------------------- load loop

interface Measured {
  batches: number
  points: number
  seconds: number
  latencies: number[]
  errors: Map<string, number>
}

/**
 * Closed loop (intervalMs undefined): every writer sends a batch as soon as its
 * last one was answered, which measures capacity. Paced: every writer sends one
 * batch per interval (spread out), and a batch's latency counts from when it was
 * due, so a server that falls behind is not flattered (no coordinated omission).
 * Only batches due after the warm-up count.
 */
async function drive(tracks: Track[], send: (t: Track, points: Point[]) => Promise<number>, intervalMs?: number): Promise<Measured> {
  const start = performance.now()
  const measureFrom = start + S.warmupS * 1000
  const end = measureFrom + S.durationS * 1000
  const m: Measured = { batches: 0, points: 0, seconds: S.durationS, latencies: [], errors: new Map() }
  await Promise.all(tracks.map(async (track, i) => {
    let due = start + (intervalMs ? (intervalMs * i) / tracks.length : 0)
    while (due < end) {
      if (intervalMs) {
        const wait = due - performance.now()
        if (wait > 0) await sleep(wait)
      } else due = performance.now()
      const points = track.next(S.batch)
      const t0 = due
      due += intervalMs ?? 0
      let stored: number
      try {
        stored = await send(track, points)
      } catch (err) {
        const key = (err as Error).message.slice(0, 120)
        m.errors.set(key, (m.errors.get(key) ?? 0) + 1)
        await sleep(50)
        if (!intervalMs) due = performance.now()
        continue
      }
      const t1 = performance.now()
      if (t0 >= measureFrom && t0 < end) {
        m.batches++
        m.points += stored
        m.latencies.push(t1 - t0)
      }
    }
  }))
  m.latencies.sort((a, b) => a - b)
  return m
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1_000 })

function request(port: number, method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = http.request({ host: HOST, port, method, path, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', fail)
    })
    req.on('error', fail)
    req.end(body)
  })
}

async function call<T>(port: number, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await request(port, method, `/api/v1${path}`, body === undefined ? undefined : JSON.stringify(body), token ? { authorization: `Bearer ${token}` } : {})
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} -> ${res.status}: ${res.text.slice(0, 300)}`)
  return JSON.parse(res.text) as T
}

// ---------------------------------------------------------------- phases

async function gatewayPhase(amqpUrl: string | undefined): Promise<{ capacity: Measured; paced: Measured; packages: string[] }> {
  const gateway: Child = await startNode(ROOT, 'dist/cmd/gateway/main.js', {
    NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: dbUrl, DATABASE_POOL_MAX: String(S.pool), REDIS_URL: S.redisUrl,
    ...(amqpUrl ? { AMQP_URL: amqpUrl } : {}), JWT_SECRET: 'bench-ingest-secret-0123456789', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password,
    RATE_LIMIT_MAX: '10000000',
  }, '/health')
  try {
    const { port } = gateway
    const { accessToken } = await call<{ accessToken: string }>(port, 'POST', '/auth/login', ADMIN)
    const tracks: Track[] = []
    for (let i = 0; i < S.devices; i++) {
      const pkg = await call<{ id: string; trackingNumber: string }>(port, 'POST', '/packages', { sender: { name: 'Bench' }, recipient: { name: `R${i}` } }, accessToken)
      const { device, apiKey } = await call<{ device: { id: string }; apiKey: string }>(port, 'POST', '/devices', { name: `bench ${i}`, trackingNumber: pkg.trackingNumber }, accessToken)
      tracks.push(new Track(device.id, apiKey, pkg.id))
    }
    const post = async (track: Track, points: Point[]) => {
      const res = await request(port, 'POST', '/api/v1/locations', JSON.stringify({ points }), { 'x-api-key': track.key })
      if (res.status !== 202) throw new Error(`POST /locations -> ${res.status}: ${res.text.slice(0, 100)}`)
      return (JSON.parse(res.text) as { accepted: number }).accepted
    }
    log(`${S.devices} packages and devices created`)
    await waitQuiet(S.quietCores, 60, log)
    log(`gateway, closed loop: ${S.devices} devices x ${S.batch}-point batches, ${S.warmupS} s warm-up + ${S.durationS} s`)
    const capacity = await drive(tracks, post)
    await waitQuiet(S.quietCores, 60, log)
    log(`gateway, paced: one batch per device every ${Math.round(pacedIntervalMs)} ms (${S.targetPps} points/s offered)`)
    const paced = await drive(tracks, post, pacedIntervalMs)
    return { capacity, paced, packages: tracks.map((t) => t.packageId) }
  } finally {
    await stopNode(gateway)
  }
}

async function rawPhase(packages: string[]): Promise<Measured> {
  const pool = new pg.Pool({ connectionString: dbUrl, max: S.pool })
  try {
    const tracks = packages.map((p) => new Track(randomUUID(), '', p))
    await waitQuiet(S.quietCores, 60, log)
    log(`raw INSERT: ${tracks.length} writers over ${S.pool} connections, ${S.warmupS} s warm-up + ${S.durationS} s`)
    return await drive(tracks, async (track, points) => {
      const values: unknown[] = []
      const rows = points.map((p) => {
        const n = values.push(track.id, track.packageId, p.recordedAt, p.lat, p.lng, p.accuracyM, p.speedMps, p.headingDeg)
        return `($${n - 7}, $${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`
      })
      const r = await pool.query(
        `INSERT INTO locations (device_id, package_id, recorded_at, lat, lng, accuracy_m, speed_mps, heading_deg) VALUES ${rows.join(', ')} ON CONFLICT (device_id, recorded_at) DO NOTHING`,
        values,
      )
      return r.rowCount ?? 0
    })
  } finally {
    await pool.end()
  }
}

// ---------------------------------------------------------------- report

const rate = (m: Measured) => m.points / m.seconds
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a')
const row = (name: string, m: Measured) =>
  `| ${name} | ${m.batches} | ${Math.round(rate(m)).toLocaleString('en-US')} | ${ms(percentile(m.latencies, 50))} | ${ms(percentile(m.latencies, 95))} | ${ms(percentile(m.latencies, 99))} | ${[...m.errors.values()].reduce((a, b) => a + b, 0)} |`

async function main(): Promise<void> {
  if (!S.skipBuild) {
    log('npm run build')
    if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed')
  } else if (!existsSync(join(ROOT, 'dist/cmd/gateway/main.js'))) throw new Error('BENCH_SKIP_BUILD=1 but dist/ is missing')
  await recreateDatabase(S.pgAdminUrl, S.db)
  const amqpUrl = recreateVhost(S.vhost)
  if (!amqpUrl) log(`WARNING: could not create the RabbitMQ vhost ${S.vhost}; live events go to the default vhost`)
  try {
    const { capacity: gw, paced, packages } = await gatewayPhase(amqpUrl)
    const raw = await rawPhase(packages)
    const ratio = rate(gw) / rate(raw)
    const p99 = percentile(paced.latencies, 99)
    const pps = (n: number) => Math.round(n).toLocaleString('en-US')
    const verdicts = [
      [rate(gw) >= 20_000, `gateway throughput (closed loop) ${pps(rate(gw))} points/s`, '>= 20,000 points/s'],
      [p99 < 250 && rate(paced) >= 0.98 * S.targetPps, `p99 batch latency at ${pps(S.targetPps)} points/s offered ${ms(p99)} ms (${pps(rate(paced))} points/s stored)`, '< 250 ms'],
      [ratio >= 0.5, `gateway / raw INSERT throughput ${(ratio * 100).toFixed(1)}%`, '>= 50%'],
    ] as const
    const errors = [...gw.errors, ...paced.errors, ...raw.errors].map(([e, n]) => `- ${n} x ${e}`)
    const body = [
      `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} with \`npm run bench:ingest\` (scripts/bench/ingest.ts) on ${machineLine()}; ` +
        'the load generator, the gateway, PostgreSQL, Redis and RabbitMQ share these cores.',
      '',
      `- Gateway: the production build (\`node dist/cmd/gateway/main.js\`, NODE_ENV=production, LOG_LEVEL=warn, DATABASE_POOL_MAX=${S.pool}) on a database of its own, ` +
        `PostgreSQL location adapter; ${S.devices} devices, each with its own API key and package, post ${S.batch}-point batches (\`x-api-key\`, rate limit on), ` +
        `for ${S.durationS} s after ${S.warmupS} s of warm-up, twice: closed loop (each batch as soon as the previous one was answered: capacity; with ${S.devices} batches ` +
        `always in flight its latency is just ${S.devices} / throughput), then paced at one batch per device every ${Math.round(pacedIntervalMs)} ms ` +
        `(${pps(S.targetPps)} points/s offered; latency counted from when a batch was due). Live \`package.location\` events go through RabbitMQ.`,
      `- Raw INSERT: the same number of writers send the same kind of batches straight to PostgreSQL as one multi-row \`INSERT ... ON CONFLICT DO NOTHING\` ` +
        `over ${S.pool} connections (no HTTP, no auth, no lastLocation update, no events): the ceiling.`,
      '',
      '| measure | batches | points/s | p50 ms | p95 ms | p99 ms | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      row('gateway POST /locations, closed loop', gw),
      row(`gateway POST /locations, paced at ${pps(S.targetPps)} points/s`, paced),
      row('raw multi-row INSERT, closed loop (ceiling)', raw),
      '',
      ...verdicts.map(([pass, actual, target]) => `- ${pass ? 'PASS' : 'FAIL'}: ${actual} (target ${target})`),
      '',
      'Other work on a shared machine moves these figures; the phases run one after another, so the ratio is the most sensitive to it. Re-run on a quiet machine before drawing conclusions.',
      ...(errors.length ? ['', 'Errors:', ...errors] : []),
    ].join('\n')
    console.log(`\n${body}\n`)
    if (!S.noDocs) {
      const lats = (m: Measured) => `p50 ${ms(percentile(m.latencies, 50))}, p95 ${ms(percentile(m.latencies, 95))}, p99 ${ms(percentile(m.latencies, 99))} ms`
      const errorCount = (m: Measured) => [...m.errors.values()].reduce((a, b) => a + b, 0)
      const value = (m: Measured, stored = '') => `${pps(rate(m))} points/s${stored}, ${lats(m)} (${m.batches.toLocaleString('en-US')} batches${errorCount(m) ? `, ${errorCount(m)} errors` : ''})`
      const word = (pass: boolean) => (pass ? 'PASS' : 'FAIL')
      const devices = `${S.devices} devices, ${S.batch}-point batches`
      writeResults('npm run bench:ingest', [
        {
          figure: `gateway POST /locations, closed loop, ${devices}`,
          value: value(gw),
          baseline: `${(ratio * 100).toFixed(1)}% of raw INSERT`,
          target: `>= 20,000 points/s: ${word(verdicts[0][0])}; >= 50% of raw: ${word(verdicts[2][0])}`,
        },
        { figure: `gateway POST /locations, paced at ${pps(S.targetPps)} points/s, ${devices}`, value: value(paced, ' stored'), target: `p99 < 250 ms: ${word(verdicts[1][0])}` },
        { figure: `raw multi-row INSERT over ${S.pool} connections, closed loop (ceiling)`, value: value(raw), baseline: 'baseline' },
      ])
      log('wrote the rows of bench:ingest in docs/benchmarks.md')
    }
    log(`machine now ${(await busyCores()).toFixed(2)} cores busy`)
  } finally {
    await recreateDatabase(S.pgAdminUrl, S.db, false).catch(() => undefined)
    recreateVhost(S.vhost, false)
  }
}

main().catch((err: unknown) => {
  console.error('[bench:ingest] failed:', err)
  process.exit(1)
})
