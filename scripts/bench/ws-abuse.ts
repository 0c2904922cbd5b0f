/**
 * `npm run bench:ws-abuse`: the probe's WebSocket reproducer (F8, F11) against the
 * production build, and what it does to the gateway's memory.
 *
 * One gateway on PostgreSQL, Redis and RabbitMQ (a database, Redis db and vhost of
 * the run's own), with the default WebSocket limits. A guest subscribes to one
 * package's `track:` channel, then writes the same subscribe message as fast as its
 * socket's `bufferedAmount` lets it (below 64 KiB), for BENCH_WSA_DURATION_S (8)
 * seconds; when the gateway closes it, it reconnects and goes on. The gateway's RSS
 * is sampled every 100 ms. Baseline, in the same run on the same gateway: its RSS
 * over the same time while idle. Then (unless BENCH_WSA_UNLIMITED=0) the same flood
 * against a second gateway whose message limits are lifted, as before the fix.
 * Replaces the rows of bench:ws-abuse in docs/benchmarks.md unless BENCH_NO_DOCS=1.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { BENCHMARKS_MD, recreateDatabase, recreateVhost, sleep, startNode, stopNode, writeResults, type Child, type Result } from './support.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const S = {
  durationS: Number(process.env.BENCH_WSA_DURATION_S ?? 8),
  unlimited: process.env.BENCH_WSA_UNLIMITED !== '0',
  db: 'delivertrack_bench_wsa',
  vhost: 'delivertrack_bench_wsa',
  pgAdmin: 'postgres://postgres@127.0.0.1:5432/postgres',
}
const MB = 2 ** 20
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`

function rss(child: Child): number {
  const line = readFileSync(`/proc/${child.proc.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!
  return Number(line.replace(/\D+/g, '')) * 1024
}

/** Samples the gateway's RSS every 100 ms while `work` runs; returns its peak. */
async function peakWhile(child: Child, work: Promise<unknown>): Promise<number> {
  let peak = rss(child)
  let done = false
  void work.finally(() => (done = true))
  while (!done) {
    peak = Math.max(peak, rss(child))
    await sleep(100)
  }
  return Math.max(peak, rss(child))
}

async function gateway(amqp: string, extra: Record<string, string>): Promise<Child> {
  await recreateDatabase(S.pgAdmin, S.db)
  return startNode(ROOT, 'dist/cmd/gateway/main.js', {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${S.db}`,
    REDIS_URL: 'redis://127.0.0.1:6379/13',
    AMQP_URL: amqp,
    WORKER_QUEUES: 'none',
    JWT_SECRET: 'bench-secret-0123456789abcdef',
    ADMIN_EMAIL: 'bench@example.com',
    ADMIN_PASSWORD: 'bench-password-wsa',
    ...extra,
  }, '/health/ready')
}

/** A package to track: signs in as the first admin and creates one. */
async function trackingNumber(port: number): Promise<string> {
  const api = `http://127.0.0.1:${port}/api/v1`
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) }).then((r) => r.json())
  const { accessToken } = (await post('/auth/login', { email: 'bench@example.com', password: 'bench-password-wsa' })) as { accessToken: string }
  const pkg = (await post('/packages', { sender: { name: 'Bench' }, recipient: { name: 'Abuse' } }, accessToken)) as { trackingNumber: string }
  return pkg.trackingNumber
}

interface Flood {
  sent: number
  connections: number
  /** Close code and reason -> how many times. */
  closes: Map<string, number>
}

/** The reproducer: subscribe messages as fast as bufferedAmount allows, reconnecting when closed. */
async function flood(port: number, tn: string, ms: number): Promise<Flood> {
  const out: Flood = { sent: 0, connections: 0, closes: new Map() }
  const msg = JSON.stringify({ op: 'subscribe', channel: `track:${tn}` })
  const end = performance.now() + ms
  while (performance.now() < end) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`, { perMessageDeflate: false })
    let open = true
    const closed = new Promise<void>((ok) => ws.once('close', (code, reason) => {
      open = false
      const key = `${code} ${reason.toString()}`
      out.closes.set(key, (out.closes.get(key) ?? 0) + 1)
      ok()
    }))
    ws.on('error', () => undefined)
    ws.on('unexpected-response', (_req, res) => {
      const key = `HTTP ${res.statusCode}`
      out.closes.set(key, (out.closes.get(key) ?? 0) + 1)
      res.resume()
      ws.terminate()
    })
    await new Promise<void>((ok) => {
      ws.once('open', () => ok())
      void closed.then(ok)
    })
    if (!open) {
      await sleep(50)
      continue
    }
    out.connections++
    while (open && performance.now() < end) {
      // While the kernel takes the bytes, bufferedAmount stays low: yield now and then,
      // so the RSS sampler and the close still run in this process.
      for (let i = 0; i < 1000 && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 64 * 1024; i++) {
        ws.send(msg)
        out.sent++
      }
      await new Promise((ok) => setImmediate(ok))
    }
    if (open) ws.terminate()
    await closed
  }
  return out
}

async function run(child: Child, tn: string) {
  const before = rss(child)
  const work = flood(child.port, tn, S.durationS * 1000)
  const peak = await peakWhile(child, work)
  const result = await work
  await sleep(1000)
  return { before, peak, after: rss(child), ...result }
}

const describe = (f: Flood) =>
  `${f.sent.toLocaleString('en-US')} messages sent over ${f.connections} connections; closes: ${[...f.closes].map(([k, n]) => `${n} x ${k}`).join(', ') || 'none'}`

async function main(): Promise<void> {
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
    if (b.status !== 0) throw new Error('build failed')
  }
  const vhostUrl = recreateVhost(S.vhost)
  if (vhostUrl) process.on('exit', () => recreateVhost(S.vhost, false))
  const amqp = vhostUrl ?? 'amqp://guest:guest@127.0.0.1:5672'

  const gw = await gateway(amqp, {})
  const tn = await trackingNumber(gw.port)
  await sleep(2000)
  console.log(`baseline: the gateway idle for ${S.durationS} s`)
  const idleBefore = rss(gw)
  const idlePeak = await peakWhile(gw, sleep(S.durationS * 1000))
  console.log(`  RSS ${mb(idleBefore)}, peak ${mb(idlePeak)}`)
  console.log(`flood with the default limits for ${S.durationS} s`)
  const limited = await run(gw, tn)
  console.log(`  RSS ${mb(limited.before)} -> peak ${mb(limited.peak)}, ${mb(limited.after)} a second after; ${describe(limited)}`)
  await stopNode(gw)

  let unlimited: Awaited<ReturnType<typeof run>> | undefined
  if (S.unlimited) {
    const big = '1000000000'
    const open = await gateway(amqp, { WS_MESSAGE_BURST: big, WS_MESSAGES_PER_S: big, WS_MAX_QUEUED_MESSAGES: big })
    const tn2 = await trackingNumber(open.port)
    await sleep(2000)
    console.log(`flood with the message limits lifted (as before the fix) for ${S.durationS} s`)
    unlimited = await run(open, tn2)
    console.log(`  RSS ${mb(unlimited.before)} -> peak ${mb(unlimited.peak)}; ${describe(unlimited)}`)
    await stopNode(open)
  }
  await recreateDatabase(S.pgAdmin, S.db, false)

  const growth = limited.peak - limited.before
  const idleGrowth = idlePeak - idleBefore
  const pass = growth < idleGrowth + 50 * MB
  const results: Result[] = [
    { figure: `gateway RSS idle for ${S.durationS} s`, value: `${mb(idleBefore)} -> peak ${mb(idlePeak)}`, baseline: 'baseline' },
    {
      figure: `gateway RSS, a guest flooding track: subscribes as fast as bufferedAmount allows for ${S.durationS} s, reconnecting when closed (default limits)`,
      value: `${mb(limited.before)} -> peak ${mb(limited.peak)}; ${describe(limited)}`,
      baseline: `+${mb(growth)} vs +${mb(idleGrowth)} idle`,
      target: `peak within 50 MB of the idle baseline: ${pass ? 'PASS' : 'FAIL'}`,
    },
  ]
  if (unlimited) {
    results.push({
      figure: `the same flood with the message limits lifted (as before the fix)`,
      value: `${mb(unlimited.before)} -> peak ${mb(unlimited.peak)}; ${describe(unlimited)}`,
      baseline: `+${mb(unlimited.peak - unlimited.before)}`,
      target: 'informative',
    })
  }
  console.log(`\n- flood with limits: +${mb(growth)} (idle +${mb(idleGrowth)}): ${pass ? 'PASS' : 'FAIL'} (target: within 50 MB of idle)`)
  if (process.env.BENCH_NO_DOCS === '1') console.log('docs/benchmarks.md left alone (BENCH_NO_DOCS=1)')
  else {
    writeResults('npm run bench:ws-abuse', results)
    console.log(`wrote the rows of bench:ws-abuse in ${BENCHMARKS_MD}`)
  }
  process.exit(pass ? 0 : 1)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
