// CPU time of chosen processes from /proc/<pid>/stat (utime + stime, all threads):
// a cost per unit of work that holds on a loaded machine, unlike a rate. Linux only;
// elsewhere every meter reads 0.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'

export const CLK_TCK = (() => {
  const n = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim())
  return Number.isFinite(n) && n > 0 ? n : 100
})()
export const HAVE_PROC = existsSync('/proc/stat')

export interface Proc {
  pid: number
  comm: string
  /** The command line; PostgreSQL backends put user, database and client there. */
  title: string
  ticks: number
  /** starttime: tells a process from a later one with the same pid. */
  start: string
}

function readProc(pid: number, withTitle: (comm: string) => boolean): Proc | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = s.lastIndexOf(')')
    const comm = s.slice(s.indexOf('(') + 1, close)
    const f = s.slice(close + 2).split(' ')
    const title = withTitle(comm) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ') : ''
    return { pid, comm, title, ticks: Number(f[11]) + Number(f[12]), start: f[19]! }
  } catch {
    return undefined // gone meanwhile
  }
}

/** Every process `select` keeps (PostgreSQL's with their title), read now. */
export function readAll(select: (p: Proc) => boolean = () => true): Proc[] {
  if (!HAVE_PROC) return []
  const out: Proc[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const p = readProc(Number(name), (comm) => comm === 'postgres')
    if (p && select(p)) out.push(p)
  }
  return out
}

/** A client backend's title: "postgres: 15/main: <user> <database> <host>(<port>) <state>". */
const BACKEND = /^postgres: (?:[^:]+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])/

/** PostgreSQL processes serving `db`, and the server's background processes (shared by every database). */
export function postgresOf(db: string): { backends: (p: Proc) => boolean; background: (p: Proc) => boolean } {
  return {
    backends: (p) => p.comm === 'postgres' && BACKEND.exec(p.title)?.[1] === db,
    background: (p) => p.comm === 'postgres' && !BACKEND.test(p.title),
  }
}

export const pidIn = (pids: () => Array<number | undefined>) => (p: Proc) => pids().includes(p.pid)

/** The process listening on TCP `port` (IPv4 or IPv6), among those named `comm`. */
export function listenerPid(port: number, comm: string): number | undefined {
  if (!HAVE_PROC) return undefined
  const inodes = new Set<string>()
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/)
        if (f[1]?.endsWith(hex) && f[3] === '0A') inodes.add(`socket:[${f[9]}]`)
      }
    } catch {
      // no IPv6
    }
  }
  for (const p of readAll((x) => x.comm === comm)) {
    try {
      if (readdirSync(`/proc/${p.pid}/fd`).some((fd) => inodes.has(readlinkSync(`/proc/${p.pid}/fd/${fd}`)))) return p.pid
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined
}

/**
 * The RabbitMQ node serving AMQP at `amqpUrl` (its first node when a list; the whole
 * node: every vhost on it), not rabbitmqctl's short-lived Erlang VMs nor other nodes
 * on the machine. Throws when no local process listens there: a meter of nothing
 * would print 0 µs as if measured.
 */
export function rabbitmqNode(amqpUrl: string): (p: Proc) => boolean {
  const url = new URL(amqpUrl.split(',')[0]!.trim())
  const port = Number(url.port || (url.protocol === 'amqps:' ? 5671 : 5672))
  const pid = listenerPid(port, 'beam.smp')
  if (pid === undefined) throw new Error(`no local RabbitMQ node listens on port ${port} (AMQP_URL); its CPU cannot be measured here`)
  return (p) => p.pid === pid
}

/**
 * CPU seconds the selected processes used between start() and stop(). Sampled every
 * `everyMs`, so a process that exits meanwhile keeps what it used until its last
 * sample; one that appears meanwhile counts from 0.
 */
export class CpuMeter {
  private base = new Map<string, number>()
  private last = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly select: (p: Proc) => boolean, private readonly everyMs = 1_000) {}

  start(): this {
    this.base.clear()
    this.last.clear()
    for (const p of readAll(this.select)) this.base.set(`${p.pid}/${p.start}`, p.ticks)
    this.timer = setInterval(() => this.sample(), this.everyMs)
    this.timer.unref()
    return this
  }

  private sample(): void {
    for (const p of readAll(this.select)) this.last.set(`${p.pid}/${p.start}`, p.ticks)
  }

  /** CPU seconds since start(). */
  stop(): number {
    clearInterval(this.timer)
    this.sample()
    let ticks = 0
    for (const [key, t] of this.last) ticks += t - (this.base.get(key) ?? 0)
    return ticks / CLK_TCK
  }
}

/** The load average over the last minute, for the record of a run on a shared machine. */
export function loadAverage(): string {
  return HAVE_PROC ? readFileSync('/proc/loadavg', 'utf8').split(' ')[0]! : 'unknown'
}

/** "123 µs" of CPU per unit of work. */
export const usPer = (cpuS: number, units: number) => `${Math.round((cpuS * 1e6) / units).toLocaleString('en-US')} µs`
/** Units of work one core does in a second at that cost. */
export const perCore = (cpuS: number, units: number) => Math.round(units / cpuS).toLocaleString('en-US')
