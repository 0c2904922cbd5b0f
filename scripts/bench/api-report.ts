// bench:api's report: the verdicts against the targets, the console tables and the
// rows of bench:api in docs/benchmarks.md.
import os from 'node:os'
import { fmtInt, log, S, type Phase } from './api-settings.js'
import type { Measured } from './api-load.js'
import { writeResults, type Result } from './support.js'

const fmtMs = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2))
const pct = (n: number) => `${Math.round(n * 100)}%`

function ratioOf(m: Measured, ceiling: Measured | undefined): number | undefined {
  if (!ceiling || m.key === 'ceiling' || m.key.startsWith('status')) return undefined
  return m.reqPerSec / ceiling.reqPerSec
}

export interface Verdict {
  name: string
  target: string
  actual: string
  pass: boolean | undefined
}

const noise = (...ms: Array<Measured | undefined>) => (ms.some((m) => m?.noisy) ? ' (noisy: other processes competed for the CPU)' : '')

export function verdicts(results: Map<Phase, Measured>): Verdict[] {
  const ceiling = results.get('ceiling')
  const out: Verdict[] = []
  const track = results.get('track')
  if (track) {
    const r = ratioOf(track, ceiling)
    out.push({
      name: 'public tracking (GET /track/:tn, cache hit)',
      target: '>= 50% of ceiling and p99 < 20 ms',
      actual: `${r === undefined ? 'n/a' : pct(r)} of ceiling, p99 ${fmtMs(track.p99)} ms${noise(track, ceiling)}`,
      pass: r === undefined ? undefined : r >= 0.5 && track.p99 < 20,
    })
  }
  const get = results.get('get')
  if (get) {
    const r = ratioOf(get, ceiling)
    out.push({
      name: 'authenticated read (GET /packages/:tn)',
      target: '>= 40% of ceiling',
      actual: `${r === undefined ? 'n/a' : pct(r)} of ceiling${noise(get, ceiling)}`,
      pass: r === undefined ? undefined : r >= 0.4,
    })
  }
  const status = results.get('status')
  const paced = results.get('status-paced')
  const nowork = results.get('status-paced-nowork')
  if (status) {
    // With every connection always busy, latency is connections / throughput (Little's law), so the
    // flat-out run's p99 says little about the target: its latency is read at the target rate (the paced run).
    out.push({
      name: 'status updates (POST /packages/:tn/status)',
      target: `>= ${fmtInt(S.statusRate)} req/s, and p99 < 50 ms at that rate`,
      actual: `${fmtInt(status.reqPerSec)} req/s (p99 ${fmtMs(status.p99)} ms with ${S.connections} connections flat out)` +
        (paced ? `; at ${fmtInt(S.statusRate)} req/s offered: ${fmtInt(paced.reqPerSec)} req/s served, p99 ${fmtMs(paced.p99)} ms` : '') + noise(status, paced) +
        (nowork ? ` (with no worker consuming, informative: ${fmtInt(nowork.reqPerSec)} req/s served, p99 ${fmtMs(nowork.p99)} ms)` : ''),
      pass: status.reqPerSec >= S.statusRate && (paced ? paced.p99 < 50 && paced.reqPerSec >= S.statusRate * 0.98 : status.p99 < 50),
    })
  }
  return out
}

const verdictWord = (v: Verdict) => (v.pass === undefined ? 'N/A' : v.pass ? 'PASS' : 'FAIL')

function resultRows(results: Map<Phase, Measured>): string[][] {
  const ceiling = results.get('ceiling')
  return [...results.values()].map((m) => {
    const r = ratioOf(m, ceiling)
    return [m.noisy ? `${m.label} (noisy)` : m.label, fmtInt(m.reqPerSec), fmtMs(m.p50), fmtMs(m.p99), fmtInt(m.non2xx), fmtInt(m.errors), m.key === 'ceiling' ? '100%' : r === undefined ? '-' : pct(r)]
  })
}
const RESULT_HEAD = ['route', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs ceiling']

function usageRows(results: Map<Phase, Measured>): string[][] {
  const c = (n: number) => n.toFixed(2)
  return [...results.values()].map((m) => {
    const u = m.usage
    return [
      m.label,
      fmtInt(u.serverUsPerReq),
      u.syscallsPerReq ? `${u.syscallsPerReq.read.toFixed(2)} / ${u.syscallsPerReq.write.toFixed(2)}` : '-',
      c(u.cpu.server),
      c(u.cpu.bench),
      c(u.cpu.postgres),
      c(u.cpu.redis),
      c(u.cpu.rabbitmq),
      c(u.cpu.standIn),
      c(u.cpu.other),
      c(u.machineBusyCores),
      u.redisPerReq ? `${u.redisPerReq.total.toFixed(2)} (${u.redisPerReq.top})` : '-',
    ]
  })
}
const USAGE_HEAD = ['route', 'server µs CPU/req', 'server read/write syscalls/req', 'server CPU', 'load generator CPU', 'postgres CPU (bench db)', 'redis CPU', 'rabbitmq CPU', 'worker stand-in CPU', 'other CPU', 'machine busy', 'redis calls/req']

function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU'
  return `${os.availableParallelism()} cores (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`
}

export function settingsLine(): string {
  return (
    `autocannon ${S.connections} connections, ${S.warmupS} s warm-up + ${S.durationS} s measured per route; ` +
    `servers: NODE_ENV=production, LOG_LEVEL=${S.logLevel}, node flags: ${S.nodeFlags.length ? S.nodeFlags.join(' ') : '(none)'}; ` +
    `reads rotate over ${S.readPackages} cached packages, writes over ${S.writePackages} packages in in_transit`
  )
}

/** One results row per measured route, with the target that route is held to. */
function resultOf(m: Measured, ceiling: Measured | undefined): Result {
  const r = ratioOf(m, ceiling)
  const verdict = (target: string, pass: boolean | undefined) => (pass === undefined ? target : `${target}: ${pass ? 'PASS' : 'FAIL'}`)
  const targets: Record<Phase, string> = {
    ceiling: '',
    track: verdict('>= 50% of ceiling, p99 < 20 ms', r === undefined ? undefined : r >= 0.5 && m.p99 < 20),
    get: verdict('>= 40% of ceiling', r === undefined ? undefined : r >= 0.4),
    status: verdict(`>= ${fmtInt(S.statusRate)} req/s`, m.reqPerSec >= S.statusRate),
    'status-paced': verdict('p99 < 50 ms, all served', m.p99 < 50 && m.reqPerSec >= S.statusRate * 0.98),
    'status-paced-nowork': 'informative',
  }
  const paced = m.key.startsWith('status-paced')
  const failures = m.non2xx + m.errors > 0 ? `, ${fmtInt(m.non2xx)} non-2xx, ${fmtInt(m.errors)} errors` : ''
  return {
    figure: `${m.label}${paced ? '' : `, flat out over ${S.connections} connections`}${m.noisy ? ' (noisy)' : ''}`,
    value: `${fmtInt(m.reqPerSec)} req/s${paced ? ' served' : ''}, p50 ${fmtMs(m.p50)} ms, p99 ${fmtMs(m.p99)} ms; server ${fmtInt(m.usage.serverUsPerReq)} µs CPU/req${failures}`,
    baseline: m.key === 'ceiling' ? 'baseline' : r === undefined ? '' : `${pct(r)} of ceiling`,
    target: targets[m.key],
  }
}

/** Replaces bench:api's rows in docs/benchmarks.md. */
export function writeDocs(results: Map<Phase, Measured>): void {
  const ceiling = results.get('ceiling')
  writeResults('npm run bench:api', [...results.values()].map((m) => resultOf(m, ceiling)))
  log('wrote its rows in docs/benchmarks.md')
}

/** The results, CPU table and verdicts on the console. */
export function printReport(results: Map<Phase, Measured>, vs: Verdict[]): void {
  console.log('')
  console.log(textTable(RESULT_HEAD, resultRows(results)))
  console.log('')
  console.log('Where the CPU went (CPU-seconds per second; 1.00 = one core):')
  console.log(textTable(USAGE_HEAD, usageRows(results)))
  console.log('')
  console.log('Targets (informative):')
  for (const v of vs) console.log(`  ${verdictWord(v).padEnd(4)}  ${v.name}: target ${v.target}; measured ${v.actual}`)
  console.log('')
}
