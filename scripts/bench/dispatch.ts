/**
 * `npm run bench:dispatch`: how long a new order waits for its offer. A gateway and
 * cmd/dispatch (production build, DISPATCH_AUTO_ASSIGN=true) on a database and a
 * RabbitMQ vhost of the run's own; BENCH_DISPATCH_DRIVERS drivers (20), all on
 * shift, each with a WebSocket subscribed to its `user:<id>` channel.
 *
 * Dispatch: POST /packages at BENCH_DISPATCH_RATE orders/s (50) for
 * BENCH_DISPATCH_SECONDS (20); per package, the time from its package.created
 * (the package's createdAt, the event's occurredAt) to its package.assigned
 * arriving on the offered driver's socket. Path: the gateway's outbox relay ->
 * RabbitMQ -> dispatch's queue -> the assignment rules in dispatch's process ->
 * PostgreSQL's NOTIFY -> the gateway's relay -> RabbitMQ -> its hub -> the socket.
 *
 * Baseline, in the same run and just before: as many packages created before
 * dispatch starts (so it never sees them), each offered by staff with POST
 * /packages/:tn/assignment at the same rate; the time from sending that request to
 * the offer on the socket (the gateway routes its own commit to its hub at once).
 * Printed: p50, p99 and max of both, and their ratios. Replaces the rows of
 * bench:dispatch in docs/benchmarks.md (not with BENCH_NO_DOCS=1).
 * BENCH_SKIP_BUILD=1: use the existing dist/.
 */
import { spawn } from 'node:child_process'
import http from 'node:http'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { freePort, HOST, percentile, prepareRun, recreateDatabase, sleep, startNode, stopNode, waitQuiet, writeResults, type Child } from './support.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const num = (name: string, def: number) => Number(process.env[name] || def)
const S = {
  drivers: num('BENCH_DISPATCH_DRIVERS', 20),
  rate: num('BENCH_DISPATCH_RATE', 50),
  seconds: num('BENCH_DISPATCH_SECONDS', 20),
  db: 'delivertrack_bench_dispatch',
  vhost: 'delivertrack_bench_dispatch',
  pgAdmin: 'postgres://postgres@127.0.0.1:5432/postgres',
}
const DB_URL = `postgres://postgres@127.0.0.1:5432/${S.db}`
const ADMIN = { email: 'bench@example.com', password: 'bench-password-dispatch' }
const log = (m: string) => console.log(`[bench:dispatch] ${m}`)
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })

function request(port: number, method: string, path: string, body: unknown, token?: string): Promise<{ status: number; json: () => unknown; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) }
  return new Promise((ok, fail) => {
    const req = http.request({ host: HOST, port, method, path: `/api/v1${path}`, agent, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        ok({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) })
      })
      res.on('error', fail)
    })
    req.on('error', fail)
    req.end(payload)
  })
}

const env = (amqp: string | undefined) => ({
  NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: DB_URL, REDIS_URL: 'redis://127.0.0.1:6379/13', ...(amqp ? { AMQP_URL: amqp } : {}),
  WORKER_QUEUES: 'none', JWT_SECRET: 'bench-dispatch-secret-0123456789', JWT_ACCESS_TTL_S: '86400', PASSWORD_SCRYPT_COST: '1024',
})

/** cmd/dispatch on a free HEALTH_PORT; resolves once it consumes its queue. */
async function startDispatch(amqp: string | undefined): Promise<Child> {
  const port = await freePort()
  const base: Record<string, string> = { ...env(amqp), HOST, HEALTH_PORT: String(port), LOG_LEVEL: 'info', DISPATCH_AUTO_ASSIGN: 'true' }
  for (const k of ['PATH', 'HOME', 'TZ', 'LANG', 'TMPDIR']) if (process.env[k]) base[k] = process.env[k]!
  const proc = spawn(process.execPath, ['dist/cmd/dispatch/main.js'], { cwd: ROOT, env: base, stdio: ['ignore', 'pipe', 'pipe'] })
  process.on('exit', () => proc.kill('SIGKILL'))
  let out = ''
  const keep = (b: Buffer) => (out = (out + b.toString('utf8')).slice(-16_384))
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  const deadline = Date.now() + 60_000
  while (!/dispatch consuming/.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`dispatch did not start:\n${out}`)
    await sleep(100)
  }
  return { proc, port, output: () => out }
}

interface Driver {
  id: string
  socket: WebSocket
}

/** Drivers on shift, each listening on `user:<id>`; `offered(tn, at)` hears every package.assigned. */
async function drivers(port: number, adminToken: string, offered: (tn: string, driverId: string, at: number) => void): Promise<Driver[]> {
  const out: Driver[] = []
  for (let i = 0; i < S.drivers; i++) {
    const email = `driver${i}@bench.example`
    const password = 'bench-driver-password'
    const created = await request(port, 'POST', '/users', { email, password, name: `Driver ${i}`, role: 'driver' }, adminToken)
    const id = (created.json() as { id: string }).id
    const token = ((await request(port, 'POST', '/auth/login', { email, password })).json() as { accessToken: string }).accessToken
    await request(port, 'PUT', '/me/shift', { onShift: true }, token)
    const socket = new WebSocket(`ws://${HOST}:${port}/api/v1/ws?token=${token}`)
    await new Promise<void>((ok, fail) => {
      socket.once('error', fail)
      socket.on('message', (raw: Buffer) => {
        const m = JSON.parse(raw.toString('utf8')) as { type: string; event?: { type: string; trackingNumber: string; data: { driverId?: string } } }
        if (m.type === 'subscribed') ok()
        else if (m.type === 'event' && m.event?.type === 'package.assigned') offered(m.event.trackingNumber, m.event.data.driverId ?? '', Date.now())
      })
      socket.once('open', () => socket.send(JSON.stringify({ op: 'subscribe', channel: `user:${id}` })))
    })
    out.push({ id, socket })
  }
  return out
}

/** Calls `fire(i)` at S.rate per second for S.seconds, on a schedule that does not drift. */
async function paced(fire: (i: number) => Promise<void>): Promise<void> {
  const total = S.rate * S.seconds
  const start = performance.now()
  const pending: Promise<void>[] = []
  let failed: unknown
  for (let i = 0; i < total && failed === undefined; i++) {
    const due = start + (i * 1000) / S.rate
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    pending.push(fire(i).catch((err: unknown) => void (failed ??= err)))
  }
  await Promise.all(pending)
  if (failed !== undefined) throw failed
}

async function settle(waiting: () => number): Promise<void> {
  const deadline = Date.now() + 60_000
  while (waiting() > 0 && Date.now() < deadline) await sleep(100)
}

function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b)
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN }
}

async function main(): Promise<void> {
  const amqp = await prepareRun(ROOT, S, log)
  const gateway = await startNode(ROOT, 'dist/cmd/gateway/main.js', { ...env(amqp), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, RATE_LIMIT_MAX: '100000000' }, '/health/ready')
  let dispatch: Child | undefined
  let sockets: Driver[] = []
  try {
    const port = gateway.port
    const adminToken = ((await request(port, 'POST', '/auth/login', ADMIN)).json() as { accessToken: string }).accessToken
    const arrived = new Map<string, { driverId: string; at: number }>()
    sockets = await drivers(port, adminToken, (tn, driverId, at) => {
      if (!arrived.has(tn)) arrived.set(tn, { driverId, at })
    })
    const total = S.rate * S.seconds
    const order = async () => {
      const res = await request(port, 'POST', '/packages', { sender: { name: 'Bench shop' }, recipient: { name: 'R' }, origin: { lat: 52.5, lng: 13.4 } }, adminToken)
      if (res.status !== 201) throw new Error(`POST /packages: ${res.status} ${res.text.slice(0, 200)}`)
      return res.json() as { trackingNumber: string; createdAt: string }
    }

    // Baseline first: dispatch has not declared its queue yet, so it never sees these packages.
    const staffPackages: string[] = []
    for (let i = 0; i < total; i += 25) staffPackages.push(...(await Promise.all(Array.from({ length: Math.min(25, total - i) }, async () => (await order()).trackingNumber))))
    log(`${S.drivers} drivers on shift with sockets; ${total} packages for staff to assign, ${S.rate}/s for ${S.seconds} s`)
    await waitQuiet(0.5, 30, log)
    const sent = new Map<string, number>()
    await paced(async (i) => {
      const tn = staffPackages[i]!
      sent.set(tn, Date.now())
      const res = await request(port, 'POST', `/packages/${tn}/assignment`, { driverId: sockets[i % sockets.length]!.id }, adminToken)
      if (res.status !== 201) throw new Error(`assign: ${res.status} ${res.text.slice(0, 200)}`)
    })
    await settle(() => staffPackages.filter((tn) => !arrived.has(tn)).length)
    const staff = stats(staffPackages.flatMap((tn) => (arrived.has(tn) ? [arrived.get(tn)!.at - sent.get(tn)!] : [])))

    dispatch = await startDispatch(amqp)
    log(`dispatch consuming; ${total} orders at ${S.rate}/s for ${S.seconds} s`)
    await waitQuiet(0.5, 30, log)
    const created = new Map<string, number>()
    await paced(async () => {
      const pkg = await order()
      created.set(pkg.trackingNumber, Date.parse(pkg.createdAt))
    })
    await settle(() => [...created.keys()].filter((tn) => !arrived.has(tn)).length)
    const auto = stats([...created].flatMap(([tn, at]) => (arrived.has(tn) ? [arrived.get(tn)!.at - at] : [])))
    const perDriver = new Map<string, number>()
    for (const tn of created.keys()) {
      const d = arrived.get(tn)?.driverId
      if (d) perDriver.set(d, (perDriver.get(d) ?? 0) + 1)
    }
    const loads = [...perDriver.values()]
    // Dispatch's own histogram: package.created to the offer's commit, without the way back to the socket.
    const text = await (await fetch(`http://${HOST}:${dispatch.port}/metrics`)).text()
    const figure = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
    const commitMeanMs = (figure('delivertrack_dispatch_offer_delay_seconds_sum') / figure('delivertrack_dispatch_offer_delay_seconds_count')) * 1000
    report(staff, auto, total, { min: Math.min(...loads), max: Math.max(...loads) }, commitMeanMs)
  } catch (err) {
    log(`gateway output:\n${gateway.output().slice(-3000)}`)
    if (dispatch) log(`dispatch output:\n${dispatch.output().slice(-3000)}`)
    throw err
  } finally {
    for (const d of sockets) d.socket.terminate()
    agent.destroy()
    if (dispatch) await stopNode(dispatch)
    await stopNode(gateway)
    await recreateDatabase(S.pgAdmin, S.db, false)
  }
}

function report(staff: ReturnType<typeof stats>, auto: ReturnType<typeof stats>, total: number, spread: { min: number; max: number }, commitMeanMs: number): void {
  const ms = (v: number) => `${v.toFixed(0)} ms`
  const lines = [
    `baseline, staff's POST /packages/:tn/assignment -> offer on the driver's socket: ${staff.n}/${total} arrived, p50 ${ms(staff.p50)}, p99 ${ms(staff.p99)}, max ${ms(staff.max)}`,
    `dispatch, package.created -> offer on the driver's socket: ${auto.n}/${total} arrived, p50 ${ms(auto.p50)}, p99 ${ms(auto.p99)}, max ${ms(auto.max)}`,
    `  of which package.created -> offer committed in dispatch (its histogram): mean ${ms(commitMeanMs)}`,
    `ratio to the baseline: p50 ${(auto.p50 / staff.p50).toFixed(1)}x, p99 ${(auto.p99 / staff.p99).toFixed(1)}x; offers per driver ${spread.min}..${spread.max}`,
  ]
  console.log(lines.join('\n'))
  if (process.env.BENCH_NO_DOCS === '1') return void log('docs/benchmarks.md left alone (BENCH_NO_DOCS=1)')
  const shape = `${S.rate} orders/s for ${S.seconds} s, ${S.drivers} drivers on shift`
  writeResults('npm run bench:dispatch', [
    { figure: `baseline: staff's POST /packages/:tn/assignment to the offer on the driver's socket, ${shape}`, value: `p50 ${ms(staff.p50)}, p99 ${ms(staff.p99)}, max ${ms(staff.max)} (${staff.n}/${total} arrived)`, baseline: 'baseline' },
    {
      figure: `dispatch: package.created to the offer on the driver's socket (user:<id>), ${shape}`,
      value: `p50 ${ms(auto.p50)}, p99 ${ms(auto.p99)}, max ${ms(auto.max)} (${auto.n}/${total} arrived; ${spread.min}..${spread.max} offers per driver); package.created to the offer's commit, mean ${ms(commitMeanMs)}`,
      baseline: `p50 ${(auto.p50 / staff.p50).toFixed(1)}x, p99 ${(auto.p99 / staff.p99).toFixed(1)}x the baseline's`,
      target: `every order offered: ${auto.n === total ? 'PASS' : 'FAIL'}`,
    },
  ])
  log('wrote its rows in docs/benchmarks.md')
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
