/**
 * `npm run bench:assign`: an assignment storm on two gateways (production build)
 * sharing one PostgreSQL database and one RabbitMQ vhost, and a check afterwards
 * that the storm left every package consistent.
 *
 * BENCH_ASSIGN_PACKAGES packages (100) and BENCH_ASSIGN_DRIVERS drivers (10). Each of
 * BENCH_ASSIGN_ROUNDS rounds (5) reads every package's version, then sends
 * BENCH_ASSIGN_PER_PACKAGE (20) concurrent POST /packages/:tn/assignment per package,
 * alternating between the gateways: BENCH_ASSIGN_REPLACE (5) of them with
 * `replace: true` and If-Match of the version read, the rest plain offers. Per
 * package and round exactly one can win (201): plain offers lose to an active
 * assignment (409), replacements to a version already moved on (412). Requests go
 * over BENCH_ASSIGN_CONNECTIONS (32) keep-alive connections per gateway.
 *
 * Baseline, in the same run and interleaved round by round (the hosts' speed
 * drifts): the same number of POST /packages/:tn/status, same packages, order,
 * gateways and connections. Printed: successful assignments/s, assignment
 * requests/s and the status requests/s they compare with.
 *
 * Verified from PostgreSQL afterwards: no package with more than one active
 * (offered|accepted) assignment, each package's driver_id is its active
 * assignment's driver, no package's event log has a gap in seq, and the stored
 * assignments and package.assigned events are as many as the 201s.
 * Replaces the rows of bench:assign in docs/benchmarks.md (not with BENCH_NO_DOCS=1).
 * BENCH_SKIP_BUILD=1: use the existing dist/.
 */
import http from 'node:http'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { HOST, prepareRun, recreateDatabase, startNode, stopNode, waitQuiet, writeResults, type Child } from './support.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const num = (name: string, def: number) => Number(process.env[name] || def)
const S = {
  packages: num('BENCH_ASSIGN_PACKAGES', 100),
  drivers: num('BENCH_ASSIGN_DRIVERS', 10),
  rounds: num('BENCH_ASSIGN_ROUNDS', 5),
  perPackage: num('BENCH_ASSIGN_PER_PACKAGE', 20),
  replace: num('BENCH_ASSIGN_REPLACE', 5),
  connections: num('BENCH_ASSIGN_CONNECTIONS', 32),
  db: 'delivertrack_bench_assign',
  vhost: 'delivertrack_bench_assign',
  pgAdmin: 'postgres://postgres@127.0.0.1:5432/postgres',
}
const DB_URL = `postgres://postgres@127.0.0.1:5432/${S.db}`
const ADMIN = { email: 'bench@example.com', password: 'bench-password-assign' }
const log = (m: string) => console.log(`[bench:assign] ${m}`)

interface Gateway {
  child: Child
  agent: http.Agent
}

function request(gw: Gateway, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const h = { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) }
  return new Promise((ok, fail) => {
    const req = http.request({ host: HOST, port: gw.child.port, method, path: `/api/v1${path}`, agent: gw.agent, headers: h }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', fail)
    })
    req.on('error', fail)
    req.end(payload)
  })
}

async function startGateway(amqp: string | undefined): Promise<Gateway> {
  const child = await startNode(ROOT, 'dist/cmd/gateway/main.js', {
    NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: DB_URL, DATABASE_POOL_MAX: '20', REDIS_URL: 'redis://127.0.0.1:6379/12',
    ...(amqp ? { AMQP_URL: amqp } : {}), WORKER_QUEUES: 'none', JWT_SECRET: 'bench-assign-secret-0123456789', JWT_ACCESS_TTL_S: '86400',
    ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, RATE_LIMIT_MAX: '100000000',
  }, '/health/ready')
  return { child, agent: new http.Agent({ keepAlive: true, maxSockets: S.connections }) }
}

interface Round {
  ms: number
  codes: Map<number, number>
}

/** Sends every request of a round at once (each gateway's agent queues beyond its connections); times the whole round. */
async function storm(calls: Array<() => Promise<{ status: number; text: string }>>): Promise<Round> {
  const codes = new Map<number, number>()
  const t0 = performance.now()
  await Promise.all(calls.map(async (call) => {
    const { status, text } = await call()
    codes.set(status, (codes.get(status) ?? 0) + 1)
    if (status >= 500 || status === 400) log(`unexpected ${status}: ${text.slice(0, 200)}`)
  }))
  return { ms: performance.now() - t0, codes }
}

function add(total: Round, r: Round): void {
  total.ms += r.ms
  for (const [c, n] of r.codes) total.codes.set(c, (total.codes.get(c) ?? 0) + n)
}

/** The consistency the storm must keep, read from PostgreSQL. */
async function verify(pool: pg.Pool) {
  const one = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n)
  return {
    multiActive: await one(`SELECT count(*) AS n FROM (SELECT package_id FROM assignments WHERE state IN ('offered', 'accepted') GROUP BY package_id HAVING count(*) > 1) x`),
    driverMismatch: await one(`SELECT count(*) AS n FROM packages p LEFT JOIN assignments a ON a.package_id = p.id AND a.state IN ('offered', 'accepted') WHERE p.driver_id IS DISTINCT FROM a.driver_id`),
    seqGaps: await one(`SELECT count(*) AS n FROM (SELECT package_id FROM package_events GROUP BY package_id HAVING min(seq) <> 1 OR max(seq) <> count(DISTINCT seq) OR count(*) <> count(DISTINCT seq)) x`),
    assignments: await one('SELECT count(*) AS n FROM assignments'),
    assignedEvents: await one(`SELECT count(*) AS n FROM package_events WHERE type = 'package.assigned'`),
    events: await one('SELECT count(*) AS n FROM package_events'),
  }
}

async function main(): Promise<void> {
  const amqp = await prepareRun(ROOT, S, log)

  // One after the other: the first runs the migrations.
  const a = await startGateway(amqp)
  const b = await startGateway(amqp)
  const gws = [a, b]
  const pool = new pg.Pool({ connectionString: DB_URL, max: 2 })
  try {
    const login = await request(a, 'POST', '/auth/login', ADMIN, {})
    const token = (JSON.parse(login.text) as { accessToken: string }).accessToken
    const auth = { authorization: `Bearer ${token}` }
    const tns: string[] = []
    for (let i = 0; i < S.packages; i++) {
      const res = await request(a, 'POST', '/packages', { sender: { name: 'Bench' }, recipient: { name: `R${i}` } }, auth)
      tns.push((JSON.parse(res.text) as { trackingNumber: string }).trackingNumber)
    }
    const drivers = (await pool.query<{ id: string }>(`INSERT INTO users (email, name, role) SELECT 'driver' || g || '@bench.example', 'Driver ' || g, 'driver' FROM generate_series(1, $1) g RETURNING id`, [S.drivers])).rows.map((r) => r.id)
    log(`${S.packages} packages, ${S.drivers} drivers, 2 gateways; ${S.rounds} rounds of ${S.packages * S.perPackage} assignment requests (${S.replace} of ${S.perPackage} per package with replace + If-Match), each after a round of as many status updates`)
    await waitQuiet(0.5, 30, log)

    const assign: Round = { ms: 0, codes: new Map() }
    const status: Round = { ms: 0, codes: new Map() }
    for (let r = 0; r < S.rounds; r++) {
      add(status, await storm(tns.flatMap((tn) => Array.from({ length: S.perPackage }, (_, k) => () =>
        request(gws[k % 2]!, 'POST', `/packages/${tn}/status`, { status: 'in_transit', note: `r${r}k${k}` }, auth)))))
      const versions = new Map((await pool.query<{ tracking_number: string; version: number }>('SELECT tracking_number, version FROM packages WHERE tracking_number = ANY($1)', [tns])).rows.map((row) => [row.tracking_number, row.version]))
      add(assign, await storm(tns.flatMap((tn, j) => Array.from({ length: S.perPackage }, (_, k) => {
        const driverId = drivers[(r * S.perPackage + j + k) % drivers.length]!
        const replace = k < S.replace
        const headers = replace ? { ...auth, 'if-match': `"${versions.get(tn)}"` } : auth
        return () => request(gws[k % 2]!, 'POST', `/packages/${tn}/assignment`, replace ? { driverId, replace: true } : { driverId }, headers)
      }))))
    }
    const checks = await verify(pool)
    report(assign, status, checks)
  } finally {
    await pool.end()
    for (const gw of gws) {
      gw.agent.destroy()
      await stopNode(gw.child)
    }
    await recreateDatabase(S.pgAdmin, S.db, false)
  }
}

function report(assign: Round, status: Round, checks: Awaited<ReturnType<typeof verify>>): void {
  const count = (r: Round) => [...r.codes.values()].reduce((x, y) => x + y, 0)
  const code = (r: Round, c: number) => r.codes.get(c) ?? 0
  const perS = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US')
  const won = code(assign, 201)
  const other = count(assign) - won - code(assign, 409) - code(assign, 412)
  const statusOk = count(status) - [...status.codes].filter(([c]) => c >= 300).reduce((x, [, n]) => x + n, 0)
  const ratio = count(assign) / assign.ms / (count(status) / status.ms)
  const expectedWins = S.packages * S.rounds
  const consistent = checks.multiActive === 0 && checks.driverMismatch === 0 && checks.seqGaps === 0 && checks.assignments === won && checks.assignedEvents === won && won === expectedWins && other === 0
  const lines = [
    `assignments: ${count(assign).toLocaleString('en-US')} requests in ${(assign.ms / 1000).toFixed(2)} s: ${perS(count(assign), assign.ms)} requests/s, ${perS(won, assign.ms)} assignments (201)/s`,
    `  201 ${won}, 409 ${code(assign, 409)}, 412 ${code(assign, 412)}, other ${other} (one 201 per package and round expected: ${expectedWins})`,
    `status updates (baseline): ${count(status).toLocaleString('en-US')} requests in ${(status.ms / 1000).toFixed(2)} s: ${perS(count(status), status.ms)} requests/s, ${statusOk} 2xx`,
    `ratio, assignment requests/s to status requests/s: ${ratio.toFixed(2)}`,
    `PostgreSQL: packages with more than one active assignment ${checks.multiActive}, driverId not the active assignment's ${checks.driverMismatch}, event logs with a seq gap ${checks.seqGaps}`,
    `  assignments stored ${checks.assignments}, package.assigned events ${checks.assignedEvents}, events in all ${checks.events}: ${consistent ? 'PASS' : 'FAIL'}`,
  ]
  console.log(lines.join('\n'))
  if (process.env.BENCH_NO_DOCS === '1') return void log('docs/benchmarks.md left alone (BENCH_NO_DOCS=1)')
  const shape = `${S.packages} packages x ${S.perPackage} concurrent requests (${S.replace} replace + If-Match), ${S.rounds} rounds, ${S.drivers} drivers, 2 gateways, ${S.connections} connections each`
  writeResults('npm run bench:assign', [
    { figure: `baseline: POST /packages/:tn/status, the same ${count(status).toLocaleString('en-US')} requests in the same shape`, value: `${perS(count(status), status.ms)} requests/s (${statusOk.toLocaleString('en-US')} 2xx)`, baseline: 'baseline' },
    {
      figure: `assignment storm: POST /packages/:tn/assignment, ${shape}`,
      value: `${perS(won, assign.ms)} assignments/s (201), ${perS(count(assign), assign.ms)} requests/s; 201 ${won.toLocaleString('en-US')}, 409 ${code(assign, 409).toLocaleString('en-US')}, 412 ${code(assign, 412).toLocaleString('en-US')}, other ${other}`,
      baseline: `requests/s ${ratio.toFixed(2)}x the baseline's`,
      target: 'informative',
    },
    {
      figure: 'after the storm, from PostgreSQL',
      value: `packages with > 1 active assignment ${checks.multiActive}; driverId not the active assignment's ${checks.driverMismatch}; event logs with a seq gap ${checks.seqGaps}; assignments stored ${checks.assignments.toLocaleString('en-US')} = package.assigned events ${checks.assignedEvents.toLocaleString('en-US')} = 201s`,
      target: `all 0, one winner per package and round: ${consistent ? 'PASS' : 'FAIL'}`,
    },
  ])
  log('wrote its rows in docs/benchmarks.md')
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
