// bench:api's settings, read once from the environment (the variables are listed in
// api.ts), its phases, and the helpers every part of the benchmark logs with.
import { randomBytes } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const env = process.env
const int = (name: string, def: number) => {
  const v = env[name]?.trim()
  if (!v) return def
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${v}")`)
  return n
}

export const S = {
  durationS: int('BENCH_DURATION_S', 10),
  warmupS: int('BENCH_WARMUP_S', 3),
  connections: Math.round(int('BENCH_CONNECTIONS', 100)),
  logLevel: env.BENCH_LOG_LEVEL?.trim() || 'warn',
  nodeFlags: (env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
  cpuProfDir: env.BENCH_CPU_PROF_DIR?.trim() ? resolve(env.BENCH_CPU_PROF_DIR.trim()) : undefined,
  readPackages: Math.round(int('BENCH_READ_PACKAGES', 100)),
  writePackages: Math.round(int('BENCH_WRITE_PACKAGES', 200)),
  db: env.BENCH_DB?.trim() || 'delivertrack_bench',
  pgAdminUrl: env.BENCH_PG_ADMIN_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: env.BENCH_REDIS_URL?.trim() || 'redis://127.0.0.1:6379/15',
  amqpVhost: env.BENCH_AMQP_VHOST?.trim() || 'delivertrack_bench',
  amqpUrl: env.BENCH_AMQP_URL?.trim() || undefined,
  quietCores: int('BENCH_QUIET_CORES', 0.3),
  quietWaitS: int('BENCH_QUIET_WAIT_S', 90),
  retries: env.BENCH_RETRIES?.trim() === '0' ? 0 : Math.round(int('BENCH_RETRIES', 2)),
  skipBuild: env.BENCH_SKIP_BUILD === '1',
  gatewayEnv: Object.fromEntries(
    (env.BENCH_GATEWAY_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => {
      const eq = kv.indexOf('=')
      if (eq < 1) throw new Error(`BENCH_GATEWAY_ENV: expected NAME=value (got "${kv}")`)
      return [kv.slice(0, eq), kv.slice(eq + 1)]
    }),
  ) as Record<string, string>,
  noDocs: env.BENCH_NO_DOCS === '1',
  /** Offered rate of the paced status-update run (the target's 1,500/s). */
  statusRate: Math.round(int('BENCH_STATUS_RATE', 1500)),
}
export const PHASES = ['ceiling', 'track', 'get', 'status', 'status-paced', 'status-paced-nowork'] as const
export type Phase = (typeof PHASES)[number]
/** How the gateway runs: on PostgreSQL, Redis and RabbitMQ, or alone (no service URLs: PGlite, memory stores, in-process bus and workers). */
export const MODES = ['services', 'embedded'] as const
export type Mode = (typeof MODES)[number]

function listOf<T extends string>(name: string, allowed: readonly T[]): Set<T> {
  const set = new Set((env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean))
  for (const x of set) if (!(allowed as readonly string[]).includes(x)) throw new Error(`${name}: unknown value "${x}" (use ${allowed.join(', ')})`)
  return set as Set<T>
}
const only = listOf('BENCH_ONLY', PHASES)
const modes = listOf('BENCH_MODES', MODES)
export const runs = (p: Phase) => only.size === 0 || only.has(p)
export const runsMode = (m: Mode) => modes.size === 0 || modes.has(m)
export const variant = Object.keys(S.gatewayEnv).length > 0
// The docs get a full run only: a row left from another run would not compare with the ceiling next to it.
export const partial = only.size > 0 || (modes.size > 0 && modes.size < MODES.length) || S.cpuProfDir !== undefined || variant

if (!/^[a-z_][a-z0-9_]*$/.test(S.db)) throw new Error(`BENCH_DB must be a plain identifier (got "${S.db}")`)
if (!/^[A-Za-z0-9_.-]+$/.test(S.amqpVhost)) throw new Error(`BENCH_AMQP_VHOST must be a plain name (got "${S.amqpVhost}")`)
for (const url of [S.pgAdminUrl, S.redisUrl, ...(S.amqpUrl ? [S.amqpUrl] : [])]) {
  const host = new URL(url).hostname
  if (host !== '127.0.0.1') throw new Error(`benchmarks only talk to 127.0.0.1 (got ${url})`)
}
export const gatewayDbUrl = (() => {
  const u = new URL(S.pgAdminUrl)
  u.pathname = `/${S.db}`
  return u.toString()
})()

export const RUN_ID = randomBytes(4).toString('hex').toUpperCase() // keeps cache keys of earlier runs out of the way
export const log = (msg: string) => console.log(`[bench:api] ${msg}`)

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')
