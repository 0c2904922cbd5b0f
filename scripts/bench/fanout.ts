/**
 * `npm run bench:fanout`: notifications per second when one status change has
 * BENCH_FANOUT_TRACKERS (10,000) trackers, through the whole path: the gateway
 * (production build) commits the change, its relay publishes the event, the worker
 * role `inbox` (`node dist/cmd/worker/main.js --only inbox`, its own process) writes
 * every tracker's notification in one INSERT ... SELECT and announces each as a
 * live `notification.created`, which the gateway's hub sends to `user:<id>`.
 *
 * Timed from the 2xx of POST /packages/:tn/status (the change is committed before
 * it): until all the event's rows are visible in `notifications` (polled every
 * 5 ms on a connection of this process), and until each of BENCH_FANOUT_LIVE
 * (1,000) of the trackers, connected over WebSocket and subscribed to their own
 * `user:<id>`, has received its notice. BENCH_FANOUT_REPEATS (3) status changes;
 * the median is reported.
 *
 * Baselines in the same run: the same path for an event with BENCH_FANOUT_SMALL
 * (100) trackers, the same share of them connected, interleaved with the large
 * runs; and the 10,000 rows inserted one statement each (autocommit, one
 * connection), what a per-user loop in the role would cost.
 * Replaces the rows of bench:fanout in docs/benchmarks.md (not with BENCH_NO_DOCS=1).
 * BENCH_SKIP_BUILD=1: use the existing dist/.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import WebSocket from 'ws'
import { HmacAccessTokenSigner } from '../../internal/auth/jwt.js'
import { percentile, prepareRun, recreateDatabase, sleep, startNode, stopNode, waitQuiet, writeResults } from './support.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const num = (name: string, def: number) => Number(process.env[name] || def)
const S = {
  trackers: num('BENCH_FANOUT_TRACKERS', 10_000),
  live: num('BENCH_FANOUT_LIVE', 1_000),
  small: num('BENCH_FANOUT_SMALL', 100),
  repeats: num('BENCH_FANOUT_REPEATS', 3),
  db: 'delivertrack_bench_fanout',
  vhost: 'delivertrack_bench_fanout',
  pgAdmin: 'postgres://postgres@127.0.0.1:5432/postgres',
}
const DB_URL = `postgres://postgres@127.0.0.1:5432/${S.db}`
const SECRET = 'bench-fanout-secret-0123456789'
const ADMIN = { email: 'bench@example.com', password: 'bench-password-fanout' }
const log = (m: string) => console.log(`[bench:fanout] ${m}`)

function env(amqp: string | undefined): Record<string, string> {
  return {
    NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: DB_URL, REDIS_URL: 'redis://127.0.0.1:6379/11', ...(amqp ? { AMQP_URL: amqp } : {}),
    // Only the inbox queue: the other roles' queues would keep every event of the run.
    WORKER_QUEUES: 'inbox', JWT_SECRET: SECRET, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password,
    RATE_LIMIT_MAX: '100000000', WS_MAX_CONNECTIONS_PER_IP: '100000',
  }
}

/** The worker is ready once the warm-up event's notifications appear; any free health port, beside a running worker. */
function startWorker(amqp: string | undefined): ChildProcess {
  const keep: Record<string, string> = {}
  for (const k of ['PATH', 'HOME', 'TZ', 'LANG', 'TMPDIR']) if (process.env[k]) keep[k] = process.env[k]!
  const proc = spawn(process.execPath, ['dist/cmd/worker/main.js', '--only', 'inbox'], { cwd: ROOT, env: { ...keep, ...env(amqp), HEALTH_PORT: '0' }, stdio: ['ignore', 'inherit', 'inherit'] })
  process.on('exit', () => proc.kill('SIGKILL'))
  return proc
}

/** `n` customers tracking the package, made in one statement; their ids in insertion order. */
async function trackers(pool: pg.Pool, packageId: string, n: number, prefix: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `WITH u AS (INSERT INTO users (email, name, role) SELECT $2 || g || '@bench.example', 'Fan ' || g, 'customer' FROM generate_series(1, $3) g RETURNING id)
     INSERT INTO user_trackings (user_id, package_id) SELECT id, $1 FROM u RETURNING user_id AS id`,
    [packageId, prefix, n],
  )
  return rows.map((r) => r.id)
}

/** Who received a live notice, by tracking number; reset per run. */
const heard = new Map<string, { count: number; last: number }>()

function connect(port: number, token: string, userId: string): Promise<WebSocket> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws?token=${token}`, { perMessageDeflate: false })
    ws.once('error', fail)
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { type: string; event?: { type: string; trackingNumber: string } }
      if (msg.type === 'subscribed') ok(ws)
      else if (msg.type === 'error') fail(new Error(raw.toString()))
      else if (msg.type === 'event' && msg.event?.type === 'notification.created') {
        const h = heard.get(msg.event.trackingNumber)
        if (h) {
          h.count++
          h.last = performance.now()
        }
      }
    })
    ws.once('open', () => ws.send(JSON.stringify({ op: 'subscribe', channel: `user:${userId}` })))
  })
}

interface Run {
  rowsMs: number
  liveMs: number
  live: number
}

/** One status change of `tn`: from its 2xx until its `expected` rows are there and `liveExpected` notices arrived. */
async function fanOut(api: string, token: string, poller: pg.Client, tn: string, expected: number, liveExpected: number): Promise<Run> {
  heard.set(tn, { count: 0, last: 0 })
  const res = await fetch(`${api}/packages/${tn}/status`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ status: 'in_transit' }) })
  const t0 = performance.now()
  if (!res.ok) throw new Error(`POST /status ${tn} -> ${res.status}: ${await res.text()}`)
  await res.arrayBuffer()
  const event = (await poller.query<{ id: string }>('SELECT e.id FROM package_events e JOIN packages p ON p.id = e.package_id WHERE p.tracking_number = $1 ORDER BY e.seq DESC LIMIT 1', [tn])).rows[0]!.id
  const deadline = t0 + 120_000
  let rowsMs = Number.NaN
  while (performance.now() < deadline) {
    const { rows } = await poller.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE event_id = $1', [event])
    if (rows[0]!.n >= expected) {
      rowsMs = performance.now() - t0
      break
    }
    await sleep(5)
  }
  const h = heard.get(tn)!
  while (h.count < liveExpected && performance.now() < deadline) await sleep(5)
  // A notice that is not coming: wait a little longer for strays, then count what came.
  if (h.count < liveExpected) await sleep(2_000)
  return { rowsMs, liveMs: h.last - t0, live: h.count }
}

/** The baseline without the worker: the same rows, one INSERT (and commit) each, on one connection. */
async function rowByRow(client: pg.Client, users: string[], tn: string): Promise<number> {
  const event = randomUUID()
  const t0 = performance.now()
  for (const user of users) {
    await client.query('INSERT INTO notifications (user_id, event_id, type, title, body, tracking_number) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id, user_id) DO NOTHING', [user, event, 'package.status_changed', `${tn} is in transit`, 'Your package is on its way.', tn])
  }
  return performance.now() - t0
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50)

async function main(): Promise<void> {
  const amqp = await prepareRun(ROOT, S, log)

  const gateway = await startNode(ROOT, 'dist/cmd/gateway/main.js', env(amqp), '/health/ready')
  const worker = startWorker(amqp)
  const pool = new pg.Pool({ connectionString: DB_URL, max: 2 })
  const poller = new pg.Client({ connectionString: DB_URL })
  await poller.connect()
  const sockets: WebSocket[] = []
  try {
    const api = `http://127.0.0.1:${gateway.port}/api/v1`
    const post = async <T>(path: string, body: unknown, token?: string): Promise<T> => {
      const res = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
      if (!res.ok) throw new Error(`POST ${path} -> ${res.status}: ${await res.text()}`)
      return (await res.json()) as T
    }
    const { accessToken: token } = await post<{ accessToken: string }>('/auth/login', ADMIN)
    const pkg = (name: string) => post<{ id: string; trackingNumber: string }>('/packages', { sender: { name: 'Bench' }, recipient: { name } }, token)
    const [big, small, warm] = [await pkg('Many'), await pkg('Few'), await pkg('Warm')]
    const t0 = performance.now()
    const bigUsers = await trackers(pool, big.id, S.trackers, 'fan')
    const smallUsers = await trackers(pool, small.id, S.small, 'few')
    await trackers(pool, warm.id, 5, 'warm')
    log(`${S.trackers.toLocaleString('en-US')} + ${S.small} + 5 trackers made in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    // Customer tokens signed as the gateway signs them; each client subscribes to its own user: channel.
    const signer = new HmacAccessTokenSigner(SECRET, 3600)
    const smallLive = Math.max(1, Math.round((S.small * S.live) / S.trackers))
    const liveUsers = [...bigUsers.slice(0, S.live), ...smallUsers.slice(0, smallLive)]
    for (let i = 0; i < liveUsers.length; i += 100) {
      const batch = liveUsers.slice(i, i + 100)
      sockets.push(...(await Promise.all(batch.map((id) => connect(gateway.port, signer.sign({ sub: id, role: 'customer', kind: 'user' }), id)))))
    }
    log(`${sockets.length} WebSocket clients subscribed to their user: channels`)

    const warmUp = await fanOut(api, token, poller, warm.trackingNumber, 5, 0)
    if (!Number.isFinite(warmUp.rowsMs)) throw new Error('the inbox worker wrote no notification of the warm-up event within 120 s')
    await waitQuiet(0.5, 30, log)

    const runs = { big: [] as Run[], small: [] as Run[] }
    for (let r = 0; r < S.repeats; r++) {
      runs.small.push(await fanOut(api, token, poller, small.trackingNumber, S.small, smallLive))
      await sleep(500)
      runs.big.push(await fanOut(api, token, poller, big.trackingNumber, S.trackers, S.live))
      log(`run ${r + 1}: ${S.trackers} rows in ${runs.big.at(-1)!.rowsMs.toFixed(0)} ms, ${runs.big.at(-1)!.live}/${S.live} live in ${runs.big.at(-1)!.liveMs.toFixed(0)} ms; ${S.small} rows in ${runs.small.at(-1)!.rowsMs.toFixed(0)} ms`)
      await sleep(500)
    }
    const rawMs = await rowByRow(poller, bigUsers, big.trackingNumber)
    const total = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE tracking_number = $1', [big.trackingNumber])).rows[0]!.n
    report(runs, rawMs, total)
  } finally {
    for (const ws of sockets) ws.terminate()
    await poller.end()
    await pool.end()
    worker.kill('SIGTERM')
    await stopNode(gateway)
    await recreateDatabase(S.pgAdmin, S.db, false)
  }
}

function report(runs: { big: Run[]; small: Run[] }, rawMs: number, stored: number): void {
  const n = (x: number) => Math.round(x).toLocaleString('en-US')
  const rowsMs = median(runs.big.map((r) => r.rowsMs))
  const liveMs = median(runs.big.map((r) => r.liveMs))
  const smallRowsMs = median(runs.small.map((r) => r.rowsMs))
  const smallLiveMs = median(runs.small.map((r) => r.liveMs))
  const perS = (count: number, ms: number) => count / (ms / 1000)
  const rate = perS(S.trackers, rowsMs)
  const smallRate = perS(S.small, smallRowsMs)
  const rawRate = perS(S.trackers, rawMs)
  const allLive = runs.big.every((r) => r.live === S.live) && runs.small.every((r) => r.live >= 1)
  const allRows = stored === S.trackers * S.repeats + S.trackers && runs.big.every((r) => Number.isFinite(r.rowsMs))
  const spread = (xs: number[]) => xs.map((x) => n(x)).join(', ')
  const lines = [
    `${S.trackers.toLocaleString('en-US')} trackers, one status change (median of ${S.repeats}): all rows in ${rowsMs.toFixed(0)} ms (runs ${spread(runs.big.map((r) => r.rowsMs))}): ${n(rate)} notifications/s`,
    `  ${S.live.toLocaleString('en-US')} connected trackers all heard it ${liveMs.toFixed(0)} ms after the 2xx (runs ${spread(runs.big.map((r) => r.liveMs))}): ${n(perS(S.live, liveMs))} live notices/s delivered, ${n(perS(S.trackers, liveMs))} announced/s; received ${runs.big.map((r) => r.live).join(', ')}`,
    `baseline, ${S.small} trackers the same way: rows in ${smallRowsMs.toFixed(0)} ms (runs ${spread(runs.small.map((r) => r.rowsMs))}), ${n(smallRate)} notifications/s; live in ${smallLiveMs.toFixed(0)} ms`,
    `baseline, the ${S.trackers.toLocaleString('en-US')} rows one INSERT each (autocommit, one connection): ${rawMs.toFixed(0)} ms, ${n(rawRate)} rows/s`,
    `ratios: ${(rate / smallRate).toFixed(1)}x the ${S.small}-tracker event's notifications/s, ${(rate / rawRate).toFixed(1)}x row-by-row inserts; rows stored ${stored} (expected ${S.trackers * (S.repeats + 1)})`,
  ]
  console.log(lines.join('\n'))
  if (process.env.BENCH_NO_DOCS === '1') return void log('docs/benchmarks.md left alone (BENCH_NO_DOCS=1)')
  writeResults('npm run bench:fanout', [
    { figure: `baseline: one status change with ${S.small} trackers, status 2xx -> all notification rows committed (median of ${S.repeats})`, value: `${n(smallRowsMs)} ms, ${n(smallRate)} notifications/s; ${Math.max(1, Math.round((S.small * S.live) / S.trackers))} connected heard it in ${smallLiveMs.toFixed(0)} ms`, baseline: 'baseline' },
    { figure: `baseline: the ${S.trackers.toLocaleString('en-US')} rows inserted one statement each (autocommit, one connection)`, value: `${n(rawMs)} ms, ${n(rawRate)} rows/s`, baseline: 'baseline' },
    {
      figure: `one status change with ${S.trackers.toLocaleString('en-US')} trackers, status 2xx -> all notification rows committed (inbox worker, median of ${S.repeats})`,
      value: `${n(rowsMs)} ms, ${n(rate)} notifications/s (runs ${spread(runs.big.map((r) => r.rowsMs))} ms)`,
      baseline: `${(rate / smallRate).toFixed(1)}x the ${S.small}-tracker event's, ${(rate / rawRate).toFixed(1)}x row by row`,
      target: `every row, once: ${allRows ? 'PASS' : 'FAIL'}`,
    },
    {
      figure: `the same, until ${S.live.toLocaleString('en-US')} of the trackers, connected over WebSocket, received their \`notification.created\` on \`user:<id>\``,
      value: `${n(liveMs)} ms: ${n(perS(S.live, liveMs))} live notices/s delivered of ${n(perS(S.trackers, liveMs))} announced/s (runs ${spread(runs.big.map((r) => r.liveMs))} ms)`,
      baseline: `${(liveMs / smallLiveMs).toFixed(1)}x the ${S.small}-tracker event's time`,
      target: `all received: ${allLive ? 'PASS' : 'FAIL'}`,
    },
  ])
  log('wrote its rows in docs/benchmarks.md')
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err)
  process.exit(1)
})
