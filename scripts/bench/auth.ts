/**
 * `npm run bench:auth`: does the second cache of verified tokens in
 * internal/auth/authenticate.ts (on top of fast-jwt's own `cache: true`) still pay?
 *
 * Two servers run side by side, each a bare Fastify app with only the
 * authentication plugin and `GET /me` (answers the principal): one keeps the
 * second cache, one does not. Rounds alternate which one is measured first; each
 * measurement is autocannon with one admin-like bearer token (the cache's best
 * case), and the server's CPU time per request from `process.cpuUsage()`. A bare
 * route is the most favourable setting for the cache: on a real route the same
 * saving is a smaller share. Then the same two plugins in this process: the CPU
 * of one `authenticateToken` call each, which noise on a shared machine blurs less.
 * Prints both and the ratios, and replaces the rows of bench:auth in
 * docs/benchmarks.md (not with BENCH_NO_DOCS=1).
 *
 * Environment (all optional): BENCH_AUTH_ROUNDS (10), BENCH_AUTH_DURATION_S (3),
 * BENCH_AUTH_WARMUP_S (1), BENCH_CONNECTIONS (50), BENCH_QUIET_CORES (0.3).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { createSigner } from 'fast-jwt'
import { authentication, principalOf } from '../../internal/auth/authenticate.js'
import type { AuthService } from '../../internal/auth/service.js'
import { freePort, HOST, sleep, waitQuiet, writeResults } from './support.js'

const ISSUER = 'delivertrack'
const num = (name: string, def: number) => Number(process.env[name] || def)
// No external identity provider: the service is only asked for the account's current role,
// once per ACCOUNT_RECHECK_MS, and answers from memory (the plugin's own cost is measured).
const accounts = { accountRole: async () => 'admin' } as unknown as AuthService

async function serve(): Promise<void> {
  const app = Fastify({ logger: false })
  await app.register(authentication, { secret: process.env.SECRET!, issuer: ISSUER, auth: accounts, rememberVerified: process.env.VARIANT === 'cache' })
  app.get('/me', async (request) => principalOf(request))
  app.get('/cpu', { config: { auth: 'none' } }, async () => process.cpuUsage())
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
  await app.listen({ host: HOST, port: Number(process.env.PORT) })
}

interface Server {
  variant: 'cache' | 'no cache'
  proc: ChildProcess
  port: number
}

async function start(variant: Server['variant'], secret: string): Promise<Server> {
  const port = await freePort()
  const env = { ...process.env, NODE_ENV: 'production', SECRET: secret, VARIANT: variant === 'cache' ? 'cache' : 'none', PORT: String(port) }
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve'], { env, stdio: 'inherit' })
  process.on('exit', () => proc.kill('SIGKILL'))
  for (let i = 0; i < 300; i++) {
    try {
      await (await fetch(`http://${HOST}:${port}/cpu`)).arrayBuffer()
      return { variant, proc, port }
    } catch {
      await sleep(100)
    }
  }
  throw new Error(`the ${variant} server did not start`)
}

async function cpuMicros(s: Server): Promise<number> {
  const u = (await (await fetch(`http://${HOST}:${s.port}/cpu`)).json()) as { user: number; system: number }
  return u.user + u.system
}

function load(s: Server, token: string, durationS: number): Promise<autocannon.Result> {
  return autocannon({ url: `http://${HOST}:${s.port}/me`, connections: num('BENCH_CONNECTIONS', 50), duration: durationS, headers: { authorization: `Bearer ${token}` } })
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length / 2
  return Number.isInteger(mid) ? (s[mid - 1]! + s[mid]!) / 2 : s[Math.floor(mid)]!
}

/** CPU µs of one `authenticateToken` call in this process, the least of many interleaved batches. */
async function perCall(secret: string, token: string): Promise<[number, number]> {
  const apps = await Promise.all([true, false].map(async (rememberVerified) => {
    const app = Fastify({ logger: false })
    await app.register(authentication, { secret, issuer: ISSUER, auth: accounts, rememberVerified })
    await app.ready()
    return app
  }))
  const best: [number, number] = [Infinity, Infinity]
  const calls = 20_000
  for (let batch = 0; batch < 40; batch++) {
    for (const i of [0, 1] as const) {
      const before = process.cpuUsage()
      for (let n = 0; n < calls; n++) await apps[i]!.authenticateToken(token)
      const used = process.cpuUsage(before)
      best[i] = Math.min(best[i], (used.user + used.system) / calls)
    }
  }
  await Promise.all(apps.map((app) => app.close()))
  return best
}

async function drive(): Promise<void> {
  const secret = randomBytes(24).toString('base64url')
  const token = createSigner({ key: secret, algorithm: 'HS256', iss: ISSUER, expiresIn: 7_200_000 })({ sub: 'bench-admin', role: 'admin', kind: 'user', email: 'bench@example.com' })
  const servers = [await start('cache', secret), await start('no cache', secret)]
  const rounds = num('BENCH_AUTH_ROUNDS', 10)
  const results = new Map<string, Array<{ rps: number; us: number }>>(servers.map((s) => [s.variant, []]))
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 === 0 ? servers : [...servers].reverse()) {
      await waitQuiet(num('BENCH_QUIET_CORES', 0.3), 30, (m) => console.log(`[bench:auth] ${m}`))
      await load(s, token, num('BENCH_AUTH_WARMUP_S', 1))
      const before = await cpuMicros(s)
      const res = await load(s, token, num('BENCH_AUTH_DURATION_S', 3))
      const us = (await cpuMicros(s)) - before
      if (res.non2xx > 0 || res.errors > 0) throw new Error(`${s.variant}: ${res.non2xx} non-2xx, ${res.errors} errors`)
      const m = { rps: res.requests.average, us: us / res.requests.total }
      results.get(s.variant)!.push(m)
      console.log(`[bench:auth] round ${r + 1} ${s.variant.padEnd(8)} ${Math.round(m.rps)} req/s, ${m.us.toFixed(1)} µs CPU/req`)
    }
  }
  for (const s of servers) s.proc.kill('SIGTERM')
  const [withCall, withoutCall] = await perCall(secret, token)

  const [a, b] = [results.get('cache')!, results.get('no cache')!]
  const rps = (ms: Array<{ rps: number; us: number }>) => median(ms.map((m) => m.rps))
  const us = (ms: Array<{ rps: number; us: number }>) => median(ms.map((m) => m.us))
  const paired = median(a.map((m, i) => m.us / b[i]!.us))
  const value = (ms: Array<{ rps: number; us: number }>) => `${Math.round(rps(ms)).toLocaleString('en-US')} req/s, ${us(ms).toFixed(1)} µs CPU/req (median of ${rounds} rounds)`
  console.log(`\nGET /me, authentication only, medians of ${rounds} rounds:`)
  console.log(`  with the second cache:   ${value(a)}, least ${Math.min(...a.map((m) => m.us)).toFixed(1)} µs`)
  console.log(`  without it:              ${value(b)}, least ${Math.min(...b.map((m) => m.us)).toFixed(1)} µs`)
  const ratios = `req/s x${(rps(a) / rps(b)).toFixed(3)}, CPU/req x${paired.toFixed(3)}`
  console.log(`  with/without:            ${ratios} (CPU: median of the rounds' ratios)`)
  const calls = `${withCall.toFixed(2)} µs with, ${withoutCall.toFixed(2)} µs without`
  console.log(`authenticateToken in-process, CPU per call: ${calls}`)
  if (process.env.BENCH_NO_DOCS === '1') return
  const route = `GET /me behind the authentication plugin only, ${num('BENCH_CONNECTIONS', 50)} connections`
  writeResults('npm run bench:auth', [
    { figure: `${route}, without the second token cache`, value: value(b), baseline: 'baseline' },
    { figure: `${route}, with it`, value: value(a), baseline: ratios, target: `CPU/req x0.95 or less to keep the cache: ${paired <= 0.95 ? 'PASS' : 'FAIL'}` },
    { figure: 'authenticateToken in-process, CPU per call', value: calls, target: 'informative' },
  ])
  console.log('[bench:auth] wrote its rows in docs/benchmarks.md')
}

if (process.argv[2] === 'serve') await serve()
else await drive()
