/**
 * `npm run bench:orders`: customers placing orders (POST /packages) per second
 * with request fingerprinting on, against off, in the same run.
 *
 * Two gateways (production build) share one PostgreSQL database and one Redis:
 * "on" with ORDER_FINGERPRINT_S=600 (the default), "off" with ORDER_FINGERPRINT_S=0.
 * BENCH_ORDERS_CUSTOMERS customers (50) place BENCH_ORDERS_PER_ROUND distinct orders
 * (1,000) per round and gateway over BENCH_ORDERS_CONNECTIONS keep-alive connections
 * (32), for BENCH_ORDERS_ROUNDS rounds (5), the gateways taking turns (which goes
 * first alternates: the hosts' speed drifts). After each "on" round the same bodies
 * are sent again, as a client's blind retries would be: each must be a 200 replay.
 *
 * Printed: orders/s on and off, their ratio, repeats answered per second, and from
 * PostgreSQL that the packages stored are as many as the 201s (no repeat made one).
 * Replaces the rows of bench:orders in docs/benchmarks.md (not with BENCH_NO_DOCS=1).
 * BENCH_SKIP_BUILD=1: use the existing dist/.
 */
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { HOST, prepareRun, recreateDatabase, startNode, stopNode, waitQuiet, writeResults, type Child } from './support.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const num = (name: string, def: number) => Number(process.env[name] || def)
const S = {
  customers: num('BENCH_ORDERS_CUSTOMERS', 50),
  perRound: num('BENCH_ORDERS_PER_ROUND', 1_000),
  rounds: num('BENCH_ORDERS_ROUNDS', 5),
  connections: num('BENCH_ORDERS_CONNECTIONS', 32),
  db: 'delivertrack_bench_orders',
  vhost: 'delivertrack_bench_orders',
  pgAdmin: 'postgres://postgres@127.0.0.1:5432/postgres',
}
const DB_URL = `postgres://postgres@127.0.0.1:5432/${S.db}`
const log = (m: string) => console.log(`[bench:orders] ${m}`)

interface Gateway {
  name: 'on' | 'off'
  child: Child
  agent: http.Agent
}

function request(gw: Gateway, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; replay: boolean }> {
  const payload = JSON.stringify(body)
  const h = { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }
  return new Promise((ok, fail) => {
    const req = http.request({ host: HOST, port: gw.child.port, method: 'POST', path: `/api/v1${path}`, agent: gw.agent, headers: h }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), replay: res.headers['idempotent-replay'] === 'true' }))
      res.on('error', fail)
    })
    req.on('error', fail)
    req.end(payload)
  })
}

async function startGateway(name: Gateway['name'], amqp: string | undefined): Promise<Gateway> {
  const child = await startNode(ROOT, 'dist/cmd/gateway/main.js', {
    NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: DB_URL, DATABASE_POOL_MAX: '20', REDIS_URL: 'redis://127.0.0.1:6379/10',
    ...(amqp ? { AMQP_URL: amqp } : {}), WORKER_QUEUES: 'none', JWT_SECRET: 'bench-orders-secret-0123456789', JWT_ACCESS_TTL_S: '86400',
    RATE_LIMIT_MAX: '100000000', PASSWORD_SCRYPT_COST: '1024', ORDER_FINGERPRINT_S: name === 'on' ? '600' : '0',
  }, '/health/ready')
  return { name, child, agent: new http.Agent({ keepAlive: true, maxSockets: S.connections }) }
}

const order = (run: string, round: number, i: number) => ({
  sender: { name: 'Bench Customer', address: `${i} Pickup Street` },
  recipient: { name: `Recipient ${i}`, address: `${round} Delivery Road`, email: 'rita@example.com' },
  deliveryOption: i % 3 === 0 ? 'express' : 'standard',
  items: [{ description: 'Books', quantity: 1 + (i % 4), sku: 'BK-1' }, { description: 'Lamp', quantity: 1 }],
  description: `${run} r${round} #${i}`,
})

interface Tally {
  ms: number
  codes: Map<number, number>
  replays: number
}

const tally = (): Tally => ({ ms: 0, codes: new Map(), replays: 0 })

/** Sends every call at once (the agent queues beyond its connections); adds the round's time and answers to `into`. */
async function storm(into: Tally, calls: Array<() => ReturnType<typeof request>>): Promise<void> {
  const t0 = performance.now()
  await Promise.all(calls.map(async (call) => {
    const { status, text, replay } = await call()
    into.codes.set(status, (into.codes.get(status) ?? 0) + 1)
    if (replay) into.replays++
    if (status >= 300) log(`unexpected ${status}: ${text.slice(0, 200)}`)
  }))
  into.ms += performance.now() - t0
}

async function main(): Promise<void> {
  const amqp = await prepareRun(ROOT, S, log)
  // One after the other: the first runs the migrations.
  const on = await startGateway('on', amqp)
  const off = await startGateway('off', amqp)
  const pool = new pg.Pool({ connectionString: DB_URL, max: 2 })
  try {
    const run = randomBytes(4).toString('hex')
    const tokens: string[] = []
    for (let c = 0; c < S.customers; c++) {
      const res = await request(on, '/auth/register', { email: `customer${c}-${run}@bench.example`, password: `bench-orders-${run}-pw`, name: `Customer ${c}` })
      if (res.status !== 201) throw new Error(`register: ${res.status} ${res.text}`)
      tokens.push((JSON.parse(res.text) as { accessToken: string }).accessToken)
    }
    const auth = (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` })
    log(`${S.customers} customers; ${S.rounds} rounds of ${S.perRound} orders per gateway, ${S.connections} connections each`)
    await waitQuiet(0.5, 30, log)

    const placed = { on: tally(), off: tally() }
    const repeats = tally()
    for (let r = 0; r < S.rounds; r++) {
      for (const gw of r % 2 === 0 ? [on, off] : [off, on]) {
        const round = gw.name === 'on' ? r : r + 1_000
        await storm(placed[gw.name], Array.from({ length: S.perRound }, (_, i) => () => request(gw, '/packages', order(run, round, i), auth(i))))
        if (gw.name === 'on') await storm(repeats, Array.from({ length: S.perRound }, (_, i) => () => request(gw, '/packages', order(run, round, i), auth(i))))
      }
    }
    const stored = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM packages WHERE description LIKE $1`, [`${run} %`])).rows[0]!.n)
    report(placed, repeats, stored)
  } catch (err) {
    for (const gw of [on, off]) log(`gateway "${gw.name}" (port ${gw.child.port}, exit ${gw.child.proc.exitCode ?? gw.child.proc.signalCode ?? 'running'}) said:\n${gw.child.output().slice(-3_000)}`)
    throw err
  } finally {
    await pool.end()
    for (const gw of [on, off]) {
      gw.agent.destroy()
      await stopNode(gw.child)
    }
    await recreateDatabase(S.pgAdmin, S.db, false)
  }
}

function report(placed: { on: Tally; off: Tally }, repeats: Tally, stored: number): void {
  const count = (t: Tally) => [...t.codes.values()].reduce((x, y) => x + y, 0)
  const code = (t: Tally, c: number) => t.codes.get(c) ?? 0
  const rate = (t: Tally) => count(t) / (t.ms / 1000)
  const perS = (t: Tally) => Math.round(rate(t)).toLocaleString('en-US')
  const ratio = rate(placed.on) / rate(placed.off)
  const created = code(placed.on, 201) + code(placed.off, 201)
  const expected = 2 * S.rounds * S.perRound
  const correct = created === expected && stored === expected && repeats.replays === count(repeats) && code(repeats, 200) === count(repeats)
  const lines = [
    `fingerprinting off: ${count(placed.off).toLocaleString('en-US')} orders in ${(placed.off.ms / 1000).toFixed(2)} s: ${perS(placed.off)} orders/s (201: ${code(placed.off, 201)})`,
    `fingerprinting on:  ${count(placed.on).toLocaleString('en-US')} orders in ${(placed.on.ms / 1000).toFixed(2)} s: ${perS(placed.on)} orders/s (201: ${code(placed.on, 201)})`,
    `ratio on/off: ${ratio.toFixed(2)}`,
    `repeats (fingerprinting on): ${count(repeats).toLocaleString('en-US')} in ${(repeats.ms / 1000).toFixed(2)} s: ${perS(repeats)} answers/s, ${repeats.replays} replays (200 ${code(repeats, 200)})`,
    `PostgreSQL: ${stored.toLocaleString('en-US')} orders stored for ${created.toLocaleString('en-US')} 201s (${expected.toLocaleString('en-US')} expected): ${correct ? 'PASS' : 'FAIL'}`,
  ]
  console.log(lines.join('\n'))
  if (process.env.BENCH_NO_DOCS === '1') return void log('docs/benchmarks.md left alone (BENCH_NO_DOCS=1)')
  const shape = `${S.rounds} x ${S.perRound.toLocaleString('en-US')} distinct orders by ${S.customers} customers, ${S.connections} connections, production build`
  writeResults('npm run bench:orders', [
    { figure: `baseline: customers' POST /packages, fingerprinting off (ORDER_FINGERPRINT_S=0), ${shape}`, value: `${perS(placed.off)} orders/s`, baseline: 'baseline' },
    { figure: `customers' POST /packages, fingerprinting on (ORDER_FINGERPRINT_S=600), the same orders interleaved`, value: `${perS(placed.on)} orders/s`, baseline: `${ratio.toFixed(2)}x the baseline`, target: 'informative' },
    {
      figure: 'the same bodies sent again within the window (fingerprinting on)',
      value: `${perS(repeats)} answers/s; ${repeats.replays.toLocaleString('en-US')} of ${count(repeats).toLocaleString('en-US')} were 200 replays; ${stored.toLocaleString('en-US')} orders stored for ${created.toLocaleString('en-US')} 201s`,
      baseline: `${(rate(repeats) / rate(placed.on)).toFixed(2)}x the first sends`,
      target: `every repeat a replay, no second order: ${correct ? 'PASS' : 'FAIL'}`,
    },
  ])
  log('wrote its rows in docs/benchmarks.md')
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
