// bench:api's report: the verdicts against the targets, the console tables and the
// "## API (bench:api)" section of docs/benchmarks.md.
import os from 'node:os'
import { fmtInt, log, S, type Phase } from './api-settings.js'
import { NOISE_CORES, type Measured } from './api-load.js'
import { BENCHMARKS_MD, writeSection } from './support.js'

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

function mdTable(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|')
  return [`| ${head.map(esc).join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')
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

export function writeDocs(results: Map<Phase, Measured>, vs: Verdict[]): void {
  const heading = '## API (bench:api)'
  const body = [
    `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} with \`npm run bench:api\` (scripts/bench/api.ts).`,
    '',
    `- Machine: ${machineLine()}. The load generator, the server, PostgreSQL, Redis and RabbitMQ share these cores.`,
    `- Settings: ${settingsLine()}.`,
    '- Ceiling: a bare Fastify `GET /` returning a small JSON (scripts/bench/bare-server.js), same process settings as the gateway.',
    '- Gateway: its own database, Redis logical database and RabbitMQ vhost; rate limiting stays on (RATE_LIMIT_MAX / RATE_LIMIT_TRACK_MAX raised so nothing is refused).',
    '- Worker queues: each status update\'s event goes to the gateway\'s three durable worker queues (archive, notify, webhooks). During the status-update runs a stand-in for the workers (scripts/bench/worker-stand-in.js) consumes them and acknowledges as the workers do (the archive a batch of ARCHIVE_BATCH_SIZE at once, notify and webhooks each message), without their work (no upload, SNS or webhook call, so acknowledgements come sooner than a real worker\'s); its CPU has its own column. The last row stops it: no worker runs, so the queues only grow.',
    `- Each run waits for an idle machine first; "(noisy)" marks a route whose best of ${S.retries + 1} attempts still had other processes using more than ${NOISE_CORES} cores.`,
    '',
    mdTable(RESULT_HEAD, resultRows(results)),
    '',
    'Targets (informative; the script fails only on crashes or non-2xx answers):',
    '',
    ...vs.map((v) => `- ${verdictWord(v)}: ${v.name}: target ${v.target}; measured ${v.actual}.`),
    '',
    'Where the CPU went during each measured run: server CPU time and read/write syscalls (`/proc/<pid>/io`) per request, then',
    'CPU-seconds per second by process (1.00 = one core busy; "other" is everything else on the machine), and Redis calls per',
    'request (`INFO commandstats`, server-wide, so other Redis users add to it):',
    '',
    mdTable(USAGE_HEAD, usageRows(results)),
  ].join('\n')

  writeSection(BENCHMARKS_MD, heading, body)
  log(`wrote "${heading}" in docs/benchmarks.md`)
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
