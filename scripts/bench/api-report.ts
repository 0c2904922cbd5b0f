// bench:api's report: the verdicts against the targets, the console tables, the
// comparison of the two modes and the rows of bench:api in docs/benchmarks.md.
import os from 'node:os'
import { fmtInt, log, MODES, runsMode, S, type Mode, type Phase } from './api-settings.js'
import type { Measured } from './api-load.js'
import { aimText, allMeasured, compare, meetsText, ratioText, type Comparison, type Results } from './api-compare.js'
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

/** The services mode against the targets of the routes; the embedded mode against half the services mode's figures. */
export function verdicts(all: Results): Verdict[] {
  const ceiling = all.ceiling
  const results = all.passes.services
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
  for (const c of compare(all)) {
    out.push({
      name: `embedded mode, ${c.figure}`,
      target: `at least half of the services mode's (${aimText(c)})`,
      actual: `${c.embedded} against ${c.services}: ${c.ratio === undefined ? c.note : ratioText(c)}${noise(all.passes.embedded.get(c.key), all.passes.services.get(c.key))}`,
      pass: c.meets,
    })
  }
  return out
}

const verdictWord = (v: Verdict) => (v.pass === undefined ? 'N/A' : v.pass ? 'PASS' : 'FAIL')

function resultRows(results: Results): string[][] {
  const ceiling = results.ceiling
  return allMeasured(results).map((m) => {
    const r = ratioOf(m, ceiling)
    return [m.noisy ? `${m.label} (noisy)` : m.label, fmtInt(m.reqPerSec), fmtMs(m.p50), fmtMs(m.p99), fmtInt(m.non2xx), fmtInt(m.errors), m.key === 'ceiling' ? '100%' : r === undefined ? '-' : pct(r)]
  })
}
const RESULT_HEAD = ['route', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs ceiling']

function usageRows(results: Results): string[][] {
  const c = (n: number) => n.toFixed(2)
  return allMeasured(results).map((m) => {
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
const COMPARE_HEAD = ['figure', 'services', 'embedded', 'embedded / services', 'at least half means', 'met']
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
    `reads rotate over ${S.readPackages} cached packages, writes over ${S.writePackages} packages in in_transit; ` +
    `modes: ${MODES.filter(runsMode).join(', ')}`
  )
}

const verdict = (target: string, pass: boolean | undefined) => (pass === undefined ? target : `${target}: ${pass ? 'PASS' : 'FAIL'}`)

/** One results row per measured route, with the target that route is held to (embedded: half the services mode's figure). */
function resultOf(m: Measured, ceiling: Measured | undefined, mode: Mode | undefined, comparison: Comparison | undefined): Result {
  const r = ratioOf(m, ceiling)
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
  const share = m.key === 'ceiling' ? 'baseline' : r === undefined ? '' : `${pct(r)} of ceiling`
  const row: Result = {
    figure: `${m.label}${paced ? '' : `, flat out over ${S.connections} connections`}${m.noisy ? ' (noisy)' : ''}`,
    value: `${fmtInt(m.reqPerSec)} req/s${paced ? ' served' : ''}, p50 ${fmtMs(m.p50)} ms, p99 ${fmtMs(m.p99)} ms; server ${fmtInt(m.usage.serverUsPerReq)} µs CPU/req${failures}`,
    baseline: share,
    target: targets[m.key],
  }
  if (mode === 'embedded') {
    const vsServices = comparison?.ratio === undefined ? '' : `${comparison.key === 'status-paced' ? 'p99 ' : ''}${ratioText(comparison)} services`
    row.baseline = [share, vsServices].filter(Boolean).join('; ')
    row.target = comparison?.meets === undefined ? `informative (${comparison?.note ?? 'not compared'})` : verdict(aimText(comparison), comparison.meets)
  }
  return row
}

/** Replaces bench:api's rows in docs/benchmarks.md: the ceiling, then each mode's routes. */
export function writeDocs(results: Results): void {
  const comparisons = new Map(compare(results).map((c) => [c.key, c]))
  const rows = [
    ...(results.ceiling ? [resultOf(results.ceiling, undefined, undefined, undefined)] : []),
    ...[...results.passes.services.values()].map((m) => resultOf(m, results.ceiling, 'services', undefined)),
    ...[...results.passes.embedded.values()].map((m) => resultOf(m, results.ceiling, 'embedded', comparisons.get(m.key))),
  ]
  writeResults('npm run bench:api', rows)
  log('wrote its rows in docs/benchmarks.md')
}

/** The results, CPU table, the modes compared and the verdicts on the console. */
export function printReport(results: Results, vs: Verdict[]): void {
  console.log('')
  console.log(textTable(RESULT_HEAD, resultRows(results)))
  console.log('')
  console.log('Where the CPU went (CPU-seconds per second; 1.00 = one core; embedded, the server\'s CPU includes its database and worker roles):')
  console.log(textTable(USAGE_HEAD, usageRows(results)))
  console.log('')
  const comparisons = compare(results)
  if (comparisons.length > 0) {
    console.log('Embedded mode as a share of the services mode, same run (aim: at least half):')
    console.log(textTable(COMPARE_HEAD, comparisons.map((c) => [c.figure, c.services, c.embedded, ratioText(c), aimText(c), meetsText(c)])))
    console.log('')
  }
  console.log('Targets (informative):')
  for (const v of vs) console.log(`  ${verdictWord(v).padEnd(4)}  ${v.name}: target ${v.target}; measured ${v.actual}`)
  console.log('')
}
