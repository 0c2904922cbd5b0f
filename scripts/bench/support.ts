// Process, machine, broker and report helpers shared by the scripts/bench/*.ts benchmarks.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))
export const HOST = '127.0.0.1'

export function assertLocal(url: string): void {
  const host = new URL(url).hostname
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`benchmarks only talk to 127.0.0.1 (got ${url})`)
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', fail)
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => ok(port))
    })
  })
}

export interface Child {
  proc: ChildProcess
  port: number
  output: () => string
}

const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

/** Starts `node <script>` with a minimal environment plus `extra`; resolves when `readyPath` answers 200. */
export async function startNode(root: string, script: string, extra: Record<string, string>, readyPath: string): Promise<Child> {
  const port = await freePort()
  const env: Record<string, string> = { HOST, PORT: String(port), ...extra }
  for (const k of ['PATH', 'HOME', 'TZ', 'LANG', 'TMPDIR']) if (process.env[k]) env[k] = process.env[k]!
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)
  const proc = spawn(process.execPath, [...flags, script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(proc)
  proc.once('exit', () => children.delete(proc))
  let out = ''
  const keep = (b: Buffer) => (out = (out + b.toString('utf8')).slice(-16_384))
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  const deadline = Date.now() + 60_000
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${script} exited during start-up:\n${out}`)
    try {
      const res = await fetch(`http://${HOST}:${port}${readyPath}`, { signal: AbortSignal.timeout(1_000) })
      await res.arrayBuffer()
      if (res.status === 200) return { proc, port, output: () => out }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${script} did not answer ${readyPath} within 60 s:\n${out}`)
    await sleep(100)
  }
}

export async function stopNode(child: Child): Promise<void> {
  const { proc } = child
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>((ok) => proc.once('exit', () => ok()))
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

export async function recreateDatabase(adminUrl: string, db: string, create = true): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
    if (create) await admin.query(`CREATE DATABASE ${db}`)
  } finally {
    await admin.end()
  }
}

/** A RabbitMQ vhost of the run's own, so its events never reach the shared vhost's worker queues. */
/**
 * Re-creates a RabbitMQ vhost of the run's own with rabbitmqctl (create=false only
 * deletes it) and returns its URL, or undefined when rabbitmqctl cannot. The gateway
 * declares the workers' durable queues: in the shared vhost they would keep every
 * event of a run, since nothing consumes them during it.
 */
export function recreateVhost(vhost: string, create = true): string | undefined {
  const ctl = (args: string[]) => spawnSync('rabbitmqctl', ['-q', ...args], { encoding: 'utf8', timeout: 120_000 }).status === 0
  ctl(['delete_vhost', vhost])
  if (!create) return undefined
  if (!ctl(['add_vhost', vhost]) || !ctl(['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*'])) return undefined
  return `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`
}

/**
 * The start of a benchmark against the production build: `npm run build` (unless
 * BENCH_SKIP_BUILD=1, when dist/ must be there), a fresh database `db` and a vhost
 * of its own, deleted at exit. Returns the vhost's URL; undefined means the default vhost.
 */
export async function prepareRun(root: string, s: { pgAdmin: string; db: string; vhost: string }, log: (m: string) => void): Promise<string | undefined> {
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    log('npm run build')
    if (spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed')
  } else if (!existsSync(join(root, 'dist/cmd/gateway/main.js'))) throw new Error('BENCH_SKIP_BUILD=1 but dist/ is missing')
  await recreateDatabase(s.pgAdmin, s.db)
  const amqp = recreateVhost(s.vhost)
  if (amqp) process.on('exit', () => recreateVhost(s.vhost, false))
  else log(`WARNING: could not create the RabbitMQ vhost ${s.vhost}; events go to the default vhost`)
  return amqp
}

/** Sets a RabbitMQ policy (a JSON definition, e.g. '{"queue-version":2}') on the queues of `vhost` matching `pattern`. */
export function setQueuePolicy(vhost: string, definition: string, pattern = '.*'): void {
  execFileSync('rabbitmqctl', ['-q', 'set_policy', '-p', vhost, '--apply-to', 'queues', 'bench', pattern, definition])
}

function cpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const idle = (line[3] ?? 0) + (line[4] ?? 0)
  const total = line.reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

/** Cores busy over the last `ms` (whole machine). */
export async function busyCores(ms = 1_000): Promise<number> {
  if (!existsSync('/proc/stat')) return 0
  const a = cpuTicks()
  await sleep(ms)
  const b = cpuTicks()
  return ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * os.availableParallelism()
}

/** Waits (at most maxS) until the machine has been under `cores` busy for 3 s running. */
export async function waitQuiet(cores: number, maxS: number, log: (m: string) => void): Promise<number> {
  const deadline = Date.now() + maxS * 1000
  let calm = 0
  let busy = 0
  while (Date.now() < deadline) {
    busy = await busyCores()
    calm = busy < cores ? calm + 1 : 0
    if (calm >= 3) return busy
  }
  log(`machine still busy (${busy.toFixed(2)} cores) after ${maxS} s; measuring anyway`)
  return busy
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU'
  return `${os.availableParallelism()} cores (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`
}

export const BENCHMARKS_MD = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url))

/** One row of the results table in docs/benchmarks.md. */
export interface Result {
  figure: string
  value: string
  /** The same-run baseline this figure compares with, or the ratio to it. */
  baseline?: string
  /** The target and whether it was met, or "informative". */
  target?: string
}

const RESULTS_HEADING = '## Current results'
const RESULTS_HEAD = ['| figure | value | baseline / ratio | target | command | date, host |', '| --- | --- | --- | --- | --- | --- |']

/** "Intel Xeon, 2 cores, Node v20.20.2": the host in a results row. */
export function hostLabel(): string {
  const model = (os.cpus()[0]?.model ?? 'unknown CPU').replace(/\((R|TM)\)|\bCPU\b|\bProcessor\b|@.*$/g, '').replace(/\s+/g, ' ').trim()
  return `${model}, ${os.availableParallelism()} cores, Node ${process.version}`
}

/**
 * Replaces the rows of `command` in the results table of docs/benchmarks.md with
 * `results` (where its rows were, else at the end), keeping every other row.
 * Re-reads the file right before writing: other benchmarks own the other rows.
 */
export function writeResults(command: string, results: Result[], file = BENCHMARKS_MD): void {
  const when = `${new Date().toISOString().slice(0, 16).replace('T', ' ')}Z, ${hostLabel()}`
  const own = `\`${command}\``
  const cell = (text: string) => text.replaceAll('|', '\\|')
  const rows = results.map((r) => `| ${[r.figure, r.value, r.baseline ?? '', r.target ?? ''].map(cell).join(' | ')} | ${own} | ${when} |`)
  const mine = (line: string) => line.includes(`| ${own} |`)

  const lines = (existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n').trimEnd().split('\n')
  let heading = lines.findIndex((l) => l.trim() === RESULTS_HEADING)
  if (heading === -1) heading = lines.push('', RESULTS_HEADING) - 1
  const next = lines.findIndex((l, i) => i > heading && l.startsWith('## '))
  let start = lines.findIndex((l, i) => i > heading && (next === -1 || i < next) && l.startsWith('|'))
  if (start === -1) {
    lines.splice(heading + 1, 0, '', ...RESULTS_HEAD)
    start = heading + 2
  }
  let end = start
  while (end < lines.length && lines[end]!.startsWith('|')) end++
  const body = lines.slice(start + 2, end)
  const first = body.findIndex(mine)
  const kept = body.filter((l) => !mine(l))
  kept.splice(first === -1 ? kept.length : first, 0, ...rows)
  lines.splice(start + 2, end - start - 2, ...kept)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${lines.join('\n')}\n`)
}
