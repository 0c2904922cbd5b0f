// bench:api's child processes (the servers under test and the worker stand-in) and
// what the run sets up before measuring: the build, the database, the vhost.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { archivePrefetch } from '../../internal/app/bus.js'
import { loadConfig } from '../../internal/config/config.js'
import { parseRoles, roleQueues, type WorkerRole } from '../../internal/events/topology.js'
import { fmtInt, log, ROOT, S } from './api-settings.js'
import { freePort, HOST, recreateVhost, sleep } from './support.js'

const env = process.env

export interface Child {
  name: string
  proc: ChildProcess
  port: number
  output: () => string
}

const children = new Set<Child>()
function nodeArgs(name: string): string[] {
  const args = [...S.nodeFlags]
  if (S.cpuProfDir) {
    mkdirSync(S.cpuProfDir, { recursive: true })
    args.push('--cpu-prof', `--cpu-prof-dir=${S.cpuProfDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`)
  }
  return args
}

/** Starts `node <flags> <script>` with a minimal environment plus `extra`, and waits for `readyPath` to answer 200. */
export async function startServer(name: string, script: string, extra: Record<string, string>, readyPath: string): Promise<Child> {
  const port = await freePort()
  const childEnv: Record<string, string> = { NODE_ENV: 'production', LOG_LEVEL: S.logLevel, HOST, PORT: String(port), ...extra }
  for (const k of ['PATH', 'HOME', 'TZ', 'LANG', 'TMPDIR']) if (env[k]) childEnv[k] = env[k]!
  const proc = spawn(process.execPath, [...nodeArgs(name), script], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-16_384)
  }
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  const child: Child = { name, proc, port, output: () => out }
  children.add(child)
  proc.once('exit', () => children.delete(child))

  const deadline = Date.now() + 60_000
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${name} exited during start-up (${proc.exitCode ?? proc.signalCode}):\n${out}`)
    }
    try {
      const res = await fetch(`http://${HOST}:${port}${readyPath}`, { signal: AbortSignal.timeout(1_000) })
      await res.arrayBuffer()
      if (res.status === 200) return child
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer ${readyPath} within 60 s:\n${out}`)
    await sleep(100)
  }
}

export function killAllNow(): void {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL')
}
process.on('exit', killAllNow)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the servers`)
    killAllNow()
    process.exit(130)
  })
}

export function build(): void {
  if (S.skipBuild) {
    if (!existsSync(join(ROOT, 'dist/cmd/gateway/main.js'))) throw new Error('BENCH_SKIP_BUILD=1 but dist/ is missing; run npm run build')
    log('BENCH_SKIP_BUILD=1: using the existing dist/')
    return
  }
  log('npm run build')
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status ?? r.signal})`)
}

export async function freshDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: S.pgAdminUrl })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${S.db} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${S.db}`)
  } finally {
    await admin.end()
  }
  log(`database ${S.db} dropped and created`)
}

/** A vhost of the run's own for the gateway; "/" (with a warning) when rabbitmqctl cannot make one. */
export function freshVhost(): { url: string; created: boolean } {
  const url = recreateVhost(S.amqpVhost)
  if (!url) {
    log(`WARNING: could not create the RabbitMQ vhost ${S.amqpVhost} with rabbitmqctl; the gateway publishes to the default vhost "/" (set BENCH_AMQP_URL to choose a broker)`)
    return { url: 'amqp://guest:guest@127.0.0.1:5672', created: false }
  }
  log(`RabbitMQ vhost ${S.amqpVhost} re-created for the run`)
  return { url, created: true }
}

/** Waits until the gateway reports its broker connection (events then flow as in production). */
export async function waitForBroker(base: string): Promise<void> {
  const deadline = Date.now() + 30_000
  let last = ''
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/health/ready`)
      last = await res.text()
      const body = JSON.parse(last) as { checks?: Record<string, { ok?: boolean }> }
      if (!body.checks?.rabbitmq || body.checks.rabbitmq.ok) return
    } catch {
      // retry
    }
    await sleep(250)
  }
  log(`WARNING: the gateway did not report RabbitMQ as connected within 30 s (${last.slice(0, 200)}); measuring anyway`)
}

export async function api<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`)
  return (text ? JSON.parse(text) : undefined) as T
}

/** Runs fn over items with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

export interface StandIn {
  child: Child
  /** Throws if it exited; logs what it acknowledged and what waits in the queues. */
  check(): Promise<void>
}

/**
 * The worker stand-in (worker-stand-in.js) on the gateway's vhost, consuming the queues of
 * the roles the gateway declares, as running workers would; undefined when there are none,
 * or when the vhost is not the run's own: it acknowledges (so removes) messages.
 */
export async function startStandIn(vhost: { url: string; created: boolean }): Promise<StandIn | undefined> {
  // The gateway's settings as the workers would read them (their defaults, or BENCH_GATEWAY_ENV's).
  const config = loadConfig(S.gatewayEnv)
  const roles = parseRoles(config.WORKER_QUEUES)
  if (roles.length === 0) {
    log('WORKER_QUEUES=none: no worker queue exists, so no stand-in, and the run with no worker is the paced run again')
    return undefined
  }
  if (!vhost.created) {
    log('no worker stand-in: the broker is not a vhost of this run (BENCH_AMQP_URL, or rabbitmqctl failed), and it would consume others\' messages; the worker queues fill')
    return undefined
  }
  const name = (role: WorkerRole) => (roles.includes(role) ? roleQueues(role, []).work : '')
  const child = await startServer('worker-stand-in', join(ROOT, 'scripts/bench/worker-stand-in.js'), {
    AMQP_URL: vhost.url,
    ARCHIVE_QUEUE: name('archive'),
    ARCHIVE_PREFETCH: String(archivePrefetch(config.ARCHIVE_BATCH_SIZE)),
    ARCHIVE_BATCH_SIZE: String(config.ARCHIVE_BATCH_SIZE),
    ARCHIVE_BATCH_AGE_MS: String(config.ARCHIVE_BATCH_AGE_MS),
    QUEUES: [name('notify'), name('webhooks')].filter(Boolean).join(','),
    WORKER_PREFETCH: String(config.WORKER_PREFETCH),
  }, '/ready')
  log(`worker stand-in consuming the queues of ${roles.join(', ')} (archive: ${config.ARCHIVE_BATCH_SIZE} per acknowledgement)`)
  return {
    child,
    async check() {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
        throw new Error(`the worker stand-in exited during the run (${child.proc.exitCode ?? child.proc.signalCode}):\n${child.output()}`)
      }
      const res = await fetch(`http://${HOST}:${child.port}/ready`)
      const { acked, depth } = (await res.json()) as { acked: number; depth?: Record<string, number> }
      log(`  worker stand-in: ${fmtInt(acked)} messages acknowledged so far; waiting in the queues now: ${JSON.stringify(depth ?? {})}`)
    },
  }
}
