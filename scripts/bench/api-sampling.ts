// Where the CPU went while bench:api measured a route: per-process CPU from /proc
// (Linux; best effort elsewhere), the server's syscalls, and Redis command counts.
import { readFileSync } from 'node:fs'
import os from 'node:os'
import type { Redis } from 'ioredis'
import { S } from './api-settings.js'
import { CLK_TCK, HAVE_PROC, readAll } from './proc-cpu.js'

interface Snapshot {
  at: number
  procs: Map<number, { comm: string; ticks: number; start: string }>
  machineBusy: number
  /** irq + softirq + steal ticks: interrupt work (much of it our own loopback traffic) and the hypervisor. */
  machineKernel: number
  machineTotal: number
  redis?: { calls: Map<string, number>; hits: number; misses: number }
  /** read/write-class syscalls of the server so far (/proc/<pid>/io). */
  serverIo?: { syscr: number; syscw: number }
}

function readIo(pid: number | undefined): Snapshot['serverIo'] {
  if (!HAVE_PROC || pid === undefined || pid < 0) return undefined
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8')
    const num = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? NaN)
    return { syscr: num('syscr'), syscw: num('syscw') }
  } catch {
    return undefined
  }
}

function readProcs(): Map<number, { comm: string; ticks: number; start: string }> {
  const out = new Map<number, { comm: string; ticks: number; start: string }>()
  for (const p of readAll()) {
    // Backends name their database in the process title: count only the bench database's as "postgres".
    const group = p.comm !== 'postgres' ? p.comm : p.title.includes(` ${S.db} `) ? 'postgres' : 'postgres (other)'
    out.set(p.pid, { comm: group, ticks: p.ticks, start: p.start })
  }
  return out
}

function readMachine(): { busy: number; total: number; kernel: number } {
  if (!HAVE_PROC) return { busy: 0, total: 0, kernel: 0 }
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
  // user nice system idle iowait irq softirq steal
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0)
  return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total, kernel: (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0) }
}

async function readRedis(redis: Redis | undefined): Promise<Snapshot['redis']> {
  if (!redis) return undefined
  try {
    const [cmd, stats] = await Promise.all([redis.info('commandstats'), redis.info('stats')])
    const calls = new Map<string, number>()
    for (const m of cmd.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') calls.set(m[1]!, Number(m[2]))
    const num = (k: string) => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(stats)?.[1] ?? 0)
    return { calls, hits: num('keyspace_hits'), misses: num('keyspace_misses') }
  } catch {
    return undefined
  }
}

export async function snapshot(redis: Redis | undefined, serverPid?: number): Promise<Snapshot> {
  const m = readMachine()
  return { at: performance.now(), procs: readProcs(), machineBusy: m.busy, machineKernel: m.kernel, machineTotal: m.total, serverIo: readIo(serverPid), redis: await readRedis(redis) }
}

export interface Usage {
  /** CPU seconds per wall second (1.0 = one core), by process group. */
  cpu: Record<'server' | 'bench' | 'postgres' | 'redis' | 'rabbitmq' | 'standIn' | 'other', number>
  machineBusyCores: number
  /** Server CPU time per request in microseconds: the cost of a request, independent of how busy the machine is. */
  serverUsPerReq: number
  /** Socket/file read and write syscalls the server made per request. */
  syscallsPerReq?: { read: number; write: number }
  redisPerReq?: { total: number; top: string; hitsPerReq: number; missesPerReq: number }
}

/** The processes whose CPU gets a column of its own. */
export interface Pids {
  server: number
  /** The worker stand-in, while it runs. */
  standIn?: number
}

export function usageBetween(a: Snapshot, b: Snapshot, pids: Pids, requests: number): Usage {
  const wall = (b.at - a.at) / 1000
  const cpu = { server: 0, bench: 0, postgres: 0, redis: 0, rabbitmq: 0, standIn: 0, other: 0 }
  for (const [pid, after] of b.procs) {
    const before = a.procs.get(pid)
    const ticks = after.ticks - (before && before.start === after.start ? before.ticks : 0)
    if (ticks <= 0) continue
    const group =
      pid === pids.server ? 'server'
        : pid === process.pid ? 'bench'
          : pid === pids.standIn ? 'standIn'
          : after.comm === 'postgres' ? 'postgres'
            : after.comm.startsWith('redis-server') ? 'redis'
              : after.comm === 'beam.smp' || after.comm === 'erl_child_setup' || after.comm === 'epmd' ? 'rabbitmq'
                : 'other'
    cpu[group] += ticks / CLK_TCK / wall
  }
  const machineTotal = b.machineTotal - a.machineTotal
  const machineBusyCores = machineTotal > 0 ? ((b.machineBusy - a.machineBusy) / machineTotal) * os.availableParallelism() : 0
  // "other" = everything the machine did besides the named groups, so processes that came and went
  // in the window (test runs, compilers) and kernel work count too.
  const kernelCores = machineTotal > 0 ? ((b.machineKernel - a.machineKernel) / machineTotal) * os.availableParallelism() : 0
  if (machineTotal > 0) cpu.other = Math.max(cpu.other, machineBusyCores - kernelCores - (cpu.server + cpu.bench + cpu.postgres + cpu.redis + cpu.rabbitmq + cpu.standIn))
  const usage: Usage = {
    cpu,
    machineBusyCores,
    serverUsPerReq: requests > 0 ? (cpu.server * wall * 1e6) / requests : 0,
  }
  if (a.serverIo && b.serverIo && requests > 0) {
    usage.syscallsPerReq = { read: (b.serverIo.syscr - a.serverIo.syscr) / requests, write: (b.serverIo.syscw - a.serverIo.syscw) / requests }
  }
  if (a.redis && b.redis && requests > 0) {
    const deltas: Array<[string, number]> = []
    for (const [name, n] of b.redis.calls) {
      const d = n - (a.redis.calls.get(name) ?? 0)
      if (d > 0) deltas.push([name, d])
    }
    deltas.sort((x, y) => y[1] - x[1])
    const total = deltas.reduce((s, [, d]) => s + d, 0)
    usage.redisPerReq = {
      total: total / requests,
      top: deltas.slice(0, 4).map(([name, d]) => `${name} ${(d / requests).toFixed(2)}`).join(', ') || '-',
      hitsPerReq: (b.redis.hits - a.redis.hits) / requests,
      missesPerReq: (b.redis.misses - a.redis.misses) / requests,
    }
  }
  return usage
}
