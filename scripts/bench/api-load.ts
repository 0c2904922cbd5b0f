// How bench:api loads a route: autocannon flat out, or an evenly paced open-loop
// client, with warm-up, a wait for a quiet machine and retries of noisy runs.
import autocannon from 'autocannon'
import type { Redis } from 'ioredis'
import { fmtInt, log, S, type Phase } from './api-settings.js'
import { snapshot, usageBetween, type Pids, type Usage } from './api-sampling.js'
import { RawHttpPool, requestBytes } from './raw-http.js'
import { HOST, percentile, sleep, waitQuiet } from './support.js'

/** What one measured run of a route gives, whichever driver sent the load. */
interface RunResult {
  reqPerSec: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  total: number
}

export interface Measured extends RunResult {
  key: Phase
  label: string
  /** The paced runs' offered req/s; unset flat out. */
  offered?: number
  usage: Usage
  /** Other processes took more than NOISE_CORES during the measured run. */
  noisy: boolean
}

export interface Target {
  port: number
  method: 'GET' | 'POST'
  paths: string[]
  headers?: Record<string, string>
  body?: string
  /** Offered load in requests/s, evenly paced (see paced()); unset: as fast as answered (autocannon). */
  rate?: number
}

/** As fast as answered: each of the connections sends its next request when the last one is answered. */
function cannon(t: Target, durationS: number): Promise<RunResult> {
  let i = 0
  // Every route, the ceiling included, goes through setupRequest so autocannon does the same work per request.
  const request: autocannon.Request = {
    method: t.method,
    path: t.paths[0]!,
    headers: t.headers,
    body: t.body,
    setupRequest: (req) => ({ ...req, path: t.paths[i++ % t.paths.length]! }),
  }
  return new Promise((ok, fail) => {
    autocannon(
      { url: `http://${HOST}:${t.port}`, connections: S.connections, duration: durationS, requests: [request], timeout: 10 },
      (err, r) => (err ? fail(err) : ok({ reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, total: r.requests.total })),
    )
  })
}

/**
 * Open-loop load at an even rate: request n is due at n / rate seconds and is sent
 * then (1 ms ticks) over a pool of keep-alive connections, whether or not earlier
 * ones were answered; its latency counts from when it was due, so time spent queued
 * behind a slow server counts too. autocannon's overallRate is not used for this:
 * it gives each connection a per-second quota that it sends back to back at the start
 * of each second (autocannon issue #174), which is a flat-out burst, not a rate.
 */
// One pool per server for the whole run: the warm-up opens its keep-alive connections,
// so the measured seconds do not start with 100 connects at once.
const pacedPools = new Map<number, RawHttpPool>()
async function pacedPool(port: number): Promise<RawHttpPool> {
  let pool = pacedPools.get(port)
  if (!pool) {
    pool = new RawHttpPool(HOST, port, S.connections)
    pacedPools.set(port, pool)
  }
  await pool.open()
  return pool
}

export function closePacedPools(): void {
  for (const p of pacedPools.values()) p.close()
  pacedPools.clear()
}

async function paced(t: Target & { rate: number }, durationS: number): Promise<RunResult> {
  const client = await pacedPool(t.port)
  const requests = t.paths.map((path) => requestBytes(HOST, t.port, t.method, path, t.headers, t.body))
  const latencies: number[] = []
  const slowestPerSecond: number[] = []
  let non2xx = 0
  let errors = 0
  let lastAnswer = 0
  let answered = 0
  const total = Math.round(t.rate * durationS)
  let allAnswered: () => void = () => undefined
  const finished = new Promise<void>((resolve) => (allAnswered = resolve))
  if (total === 0) allAnswered()
  const start = performance.now()
  const lateSendPerSecond: number[] = []
  const send = (n: number) => {
    const due = start + (n * 1000) / t.rate
    const second = Math.floor((due - start) / 1000)
    // How late this process sent it: a stall here would otherwise be charged to the server.
    lateSendPerSecond[second] = Math.max(lateSendPerSecond[second] ?? 0, performance.now() - due)
    client.send(requests[n % requests.length]!, (status) => {
      if (status instanceof Error) errors++
      else {
        lastAnswer = performance.now()
        const latency = lastAnswer - due
        if (status >= 200 && status < 300) latencies.push(latency)
        else non2xx++
        slowestPerSecond[second] = Math.max(slowestPerSecond[second] ?? 0, latency)
      }
      if (++answered === total) allAnswered()
    })
  }
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * t.rate) / 1000) + 1)
    while (sent < due) send(sent++)
    await sleep(1)
  }
  await finished
  latencies.sort((a, b) => a - b)
  if (durationS >= 5) {
    log(`  slowest answer per second of sending (ms): ${slowestPerSecond.map((x) => Math.round(x)).join(' ')}`)
    log(`  latest send per second, behind its due time (ms): ${lateSendPerSecond.map((x) => Math.round(x)).join(' ')}`)
  }
  const elapsedS = Math.max(durationS, (lastAnswer - start) / 1000)
  const round2 = (x: number) => Math.round(x * 100) / 100
  return { reqPerSec: latencies.length / elapsedS, p50: round2(percentile(latencies, 50)), p99: round2(percentile(latencies, 99)), non2xx, errors, total: latencies.length + non2xx }
}

const drive = (t: Target, durationS: number): Promise<RunResult> => (t.rate ? paced({ ...t, rate: t.rate }, durationS) : cannon(t, durationS))

/** Other processes (not the server, autocannon, PostgreSQL, Redis or RabbitMQ) above this many cores make a run noisy. */
export const NOISE_CORES = 0.25

export async function measure(key: Phase, label: string, target: Target, pids: Pids, redis: Redis | undefined): Promise<Measured> {
  let best: Measured | undefined
  for (let attempt = 0; attempt <= S.retries; attempt++) {
    // The servers are idle at this point: wait (bounded) until the rest of the machine is too.
    await waitQuiet(S.quietCores, S.quietWaitS, log)
    log(`${label}: warm-up ${S.warmupS} s`)
    const warm = await drive(target, S.warmupS)
    if (warm.non2xx > 0 || warm.errors > 0) log(`  warm-up saw ${warm.non2xx} non-2xx and ${warm.errors} errors`)
    log(`${label}: measuring ${S.durationS} s${attempt > 0 ? ` (attempt ${attempt + 1})` : ''} from t=${Date.now()}`)
    const before = await snapshot(redis, pids.server)
    const r = await drive(target, S.durationS)
    const after = await snapshot(redis, pids.server)
    const m: Measured = {
      key,
      label,
      offered: target.rate,
      ...r,
      usage: usageBetween(before, after, pids, r.total),
      noisy: false,
    }
    m.noisy = m.usage.cpu.other > NOISE_CORES
    log(`  until t=${Date.now()}: ${fmtInt(m.reqPerSec)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, non-2xx ${m.non2xx}, errors ${m.errors}, other processes ${m.usage.cpu.other.toFixed(2)} cores`)
    if (!best || m.usage.cpu.other < best.usage.cpu.other) best = m
    if (!m.noisy) break
    if (attempt < S.retries) log('  other processes competed for the CPU: measuring again')
  }
  return best!
}
