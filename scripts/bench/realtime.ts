/**
 * `npm run bench:realtime`: end-to-end latency of the real-time pipeline against
 * the production build, beside the raw RabbitMQ publish-to-consume round trip
 * measured in the same run (the floor).
 *
 * 1. Floor: confirmed publishes to a queue on 127.0.0.1 at the same rate, consumed
 *    in this process; latency publish -> consume.
 * 2. Delivery: BENCH_RT_CLIENTS WebSocket clients (default 1,000) over
 *    BENCH_RT_PACKAGES packages (100); BENCH_RT_RATE status updates per second (500)
 *    for BENCH_RT_DURATION_S (20) through the REST API. Each update carries a unique
 *    note; latency is from sending the HTTP request to each client's receipt. The
 *    updates go over BENCH_RT_HTTP_CONNECTIONS (64) keep-alive connections, after
 *    BENCH_RT_WARMUP_S (3) seconds of the same load that are not measured.
 *    Delivered/expected must be 100%.
 * 3. CPU from /proc over the delivery run: the gateway's per status update and per
 *    WebSocket message, PostgreSQL's (this database's backends and the server's
 *    background processes) and the RabbitMQ node's per status update. A second
 *    gateway with no socket runs meanwhile, on a database of its own (so its relay
 *    finds nothing to publish) and the same broker: its CPU, less its own idle
 *    rate, per event its hub received from the bus and dropped.
 * 4. Idle: BENCH_RT_IDLE (10,000) subscribed connections on one gateway; its RSS
 *    before and after, and bytes per connection.
 * 5. The rate of 2. for BENCH_RT_BARE_S (10) seconds with no client connected: the
 *    gateway's CPU per update without fan-out; the difference to 3. is the
 *    fan-out's per message.
 * The broker is a vhost of the run's own (BENCH_RT_AMQP_VHOST, re-created with
 * rabbitmqctl and deleted at exit) unless AMQP_URL names one.
 * Replaces the rows of bench:realtime in docs/benchmarks.md, unless
 * BENCH_NO_DOCS=1 or BENCH_CPU_PROF_DIR (profile the gateway into that folder) is set.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import amqplib from 'amqplib'
import pg from 'pg'
import WebSocket from 'ws'
import { CpuMeter, loadAverage, perCore, pidIn, postgresOf, rabbitmqNode, usPer } from './proc-cpu.js'
import { BENCHMARKS_MD, freePort, percentile, recreateVhost, sleep, writeResults, type Result } from './support.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const num = (name: string, def: number) => Number(process.env[name] ?? def)
const S = {
  clients: num('BENCH_RT_CLIENTS', 1000),
  packages: num('BENCH_RT_PACKAGES', 100),
  rate: num('BENCH_RT_RATE', 500),
  durationS: num('BENCH_RT_DURATION_S', 20),
  warmupS: num('BENCH_RT_WARMUP_S', 3),
  idle: num('BENCH_RT_IDLE', 10_000),
  bareS: num('BENCH_RT_BARE_S', 10),
  db: 'delivertrack_bench_rt',
  pgAdmin: 'postgres://postgres@127.0.0.1:5432/postgres',
  /** AMQP_URL: use this broker as is; otherwise a vhost of the run's own (BENCH_RT_AMQP_VHOST). */
  amqp: process.env.AMQP_URL ?? '',
  vhost: process.env.BENCH_RT_AMQP_VHOST ?? 'delivertrack_bench_rt',
}

const children: ChildProcess[] = []
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')))

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) }
}
const ms = (x: number) => x.toFixed(2)

/** Sends `total` items at `rate` per second in 10 ms ticks. */
async function paced(total: number, rate: number, send: (i: number) => void): Promise<void> {
  const start = performance.now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate))
    while (sent < due) send(sent++)
    await sleep(10)
  }
}

async function floor(count: number): Promise<number[]> {
  const conn = await amqplib.connect(S.amqp)
  const ch = await conn.createConfirmChannel()
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true })
  const latencies: number[] = []
  let received = 0
  const done = new Promise<void>((resolve) => {
    void ch.consume(queue, (msg) => {
      if (!msg) return
      latencies.push(performance.now() - Number(msg.content.toString()))
      if (++received === count) resolve()
    }, { noAck: true })
  })
  await paced(count, S.rate, () => ch.publish('', queue, Buffer.from(String(performance.now())), { persistent: true }, () => undefined))
  await Promise.race([done, sleep(10_000)])
  await conn.close()
  return latencies
}

async function startGateway(port: number, db = S.db): Promise<ChildProcess> {
  // BENCH_CPU_PROF_DIR: profile the gateway (a V8 .cpuprofile, for Chrome DevTools or speedscope).
  const prof = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : []
  // BENCH_GATEWAY_NODE_FLAGS: extra node flags for the gateway (e.g. --trace-gc).
  const extra = (process.env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)
  const child = spawn(process.execPath, [...prof, ...extra, 'dist/cmd/gateway/main.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${db}`,
      REDIS_URL: 'redis://127.0.0.1:6379/14',
      AMQP_URL: S.amqp,
      JWT_SECRET: 'bench-secret-0123456789abcdef',
      JWT_ACCESS_TTL_S: '86400',
      ADMIN_EMAIL: 'bench@example.com',
      ADMIN_PASSWORD: 'bench-password',
      RATE_LIMIT_MAX: '100000000',
      // Every client here connects from 127.0.0.1.
      WS_MAX_CONNECTIONS_PER_IP: '100000',
      DATABASE_POOL_MAX: '30',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  children.push(child)
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)
    if (ok) return child
    if (child.exitCode !== null) throw new Error('gateway exited during start-up')
    await sleep(200)
  }
  throw new Error('gateway did not become healthy')
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!
  return Number(line.replace(/\D+/g, '')) * 1024
}

// Status updates go over a fixed pool of keep-alive connections, as a courier's or
// shop's integration would send them (and as autocannon does in bench:api). An
// unbounded client would open ever more connections as soon as answers slow down.
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Number(process.env.BENCH_RT_HTTP_CONNECTIONS ?? 64) })

function postKeepAlive(port: number, path: string, body: unknown, token: string): Promise<number> {
  const payload = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token}` } },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

function openClient(url: string, channel: string, onEvent?: (e: { data: { note?: string } }) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.once('error', reject)
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { type: string; event?: { data: { note?: string } } }
      if (msg.type === 'subscribed') resolve(ws)
      else if (msg.type === 'event' && onEvent) onEvent(msg.event!)
      else if (msg.type === 'error') reject(new Error(raw.toString()))
    })
    ws.once('open', () => ws.send(JSON.stringify({ op: 'subscribe', channel })))
  })
}

async function main(): Promise<void> {
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
    if (b.status !== 0) throw new Error('build failed')
  }
  const admin = new pg.Client({ connectionString: S.pgAdmin })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${S.db} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${S.db}`)
  await admin.query(`DROP DATABASE IF EXISTS ${S.db}_observer WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${S.db}_observer`)
  await admin.end()

  const total = S.rate * S.durationS
  console.log(`floor: ${total} confirmed publishes at ${S.rate}/s through RabbitMQ`)
  // The gateway declares the workers' durable queues: in the shared vhost they would keep every event of the run.
  if (!S.amqp) {
    const url = recreateVhost(S.vhost)
    if (url) process.on('exit', () => recreateVhost(S.vhost, false))
    else console.warn(`WARNING: could not create the RabbitMQ vhost ${S.vhost} with rabbitmqctl; using "/", whose worker queues will keep this run's events`)
    S.amqp = url ?? 'amqp://guest:guest@127.0.0.1:5672'
    console.log(`broker: ${url ? `vhost ${S.vhost}, re-created for the run and deleted at exit` : 'the default vhost'}`)
  }
  const floorLat = summary(await floor(total))

  const port = await freePort()
  const gateway = await startGateway(port)
  const api = `http://127.0.0.1:${port}/api/v1`
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
  const login = (await (await post('/auth/login', { email: 'bench@example.com', password: 'bench-password' })).json()) as { accessToken: string }
  const token = login.accessToken
  const tns: string[] = []
  for (let i = 0; i < S.packages; i++) {
    const pkg = (await (await post('/packages', { sender: { name: 'Bench' }, recipient: { name: `R${i}` } }, token)).json()) as { trackingNumber: string }
    await post(`/packages/${pkg.trackingNumber}/status`, { status: 'in_transit' }, token)
    tns.push(pkg.trackingNumber)
  }

  const wsUrl = `ws://127.0.0.1:${port}/api/v1/ws?token=${token}`
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  let delivered = 0
  const onEvent = (e: { data: { note?: string } }) => {
    const t0 = e.data.note ? sentAt.get(e.data.note) : undefined
    if (t0 === undefined) return
    delivered++
    latencies.push(performance.now() - t0)
  }
  console.log(`connecting ${S.clients} clients over ${S.packages} packages`)
  const clients: WebSocket[] = []
  for (let i = 0; i < S.clients; i += 100) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(100, S.clients - i) }, (_, j) => openClient(wsUrl, `package:${tns[(i + j) % S.packages]}`, onEvent)))))
  }
  // Every event reaches this one's hub through the bus (another gateway's origin), and nobody here wants it.
  const observer = await startGateway(await freePort(), `${S.db}_observer`)
  const observerIdle = new CpuMeter(pidIn(() => [observer.pid])).start()
  await sleep(5_000)
  const observerIdlePerS = observerIdle.stop() / 5
  const perPackage = new Map<string, number>()
  for (let i = 0; i < S.clients; i++) perPackage.set(tns[i % S.packages]!, (perPackage.get(tns[i % S.packages]!) ?? 0) + 1)

  // Warm-up at the same rate, not measured (its notes are not in sentAt): the gateway opens its
  // pool connections and the JIT settles, as in bench:api's warm-up.
  if (S.warmupS > 0) {
    console.log(`warm-up: ${S.rate} status updates/s for ${S.warmupS} s (not measured)`)
    const warm: Array<Promise<unknown>> = []
    await paced(S.rate * S.warmupS, S.rate, (i) => {
      warm.push(postKeepAlive(port, `/api/v1/packages/${tns[i % S.packages]}/status`, { status: 'in_transit', note: `w${i}` }, token).catch(() => undefined))
    })
    await Promise.all(warm)
    await sleep(500)
  }
  console.log(`driving ${S.rate} status updates/s for ${S.durationS} s`)
  let expected = 0
  let httpErrors = 0
  const httpLatencies: number[] = []
  const pending: Array<Promise<unknown>> = []
  const driveStart = performance.now()
  const slowestBySecond: number[] = []
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  const pgProcs = postgresOf(S.db)
  const meteredFrom = performance.now()
  const meters = {
    observer: new CpuMeter(pidIn(() => [observer.pid])).start(),
    gateway: new CpuMeter(pidIn(() => [gateway.pid])).start(),
    pgBackends: new CpuMeter(pgProcs.backends).start(),
    pgBackground: new CpuMeter(pgProcs.background).start(),
    rabbitmq: new CpuMeter(rabbitmqNode(S.amqp)).start(),
  }
  const loadAvg = loadAverage()
  await paced(total, S.rate, (i) => {
    const tn = tns[i % S.packages]!
    const note = `b${i}`
    expected += perPackage.get(tn) ?? 0
    sentAt.set(note, performance.now())
    const t0 = performance.now()
    pending.push(
      postKeepAlive(port, `/api/v1/packages/${tn}/status`, { status: 'in_transit', note }, token).then(
        (status) => {
          if (status < 200 || status >= 300) httpErrors++
          else {
            httpLatencies.push(performance.now() - t0)
            const second = Math.floor((t0 - driveStart) / 1000)
            slowestBySecond[second] = Math.max(slowestBySecond[second] ?? 0, performance.now() - t0)
          }
        },
        (err: unknown) => {
          httpErrors++
          if (httpErrors <= 3) console.warn(`status update failed: ${(err as Error).message} (${String((err as { cause?: unknown }).cause)})`)
        },
      ),
    )
  })
  await Promise.all(pending)
  loopDelay.disable()
  for (let i = 0; i < 100 && delivered < expected; i++) await sleep(100)
  const observerS = meters.observer.stop() - (observerIdlePerS * (performance.now() - meteredFrom)) / 1000
  const observerExited = new Promise((r) => observer.once('exit', r))
  observer.kill('SIGTERM')
  await Promise.race([observerExited, sleep(15_000)])
  const dropper = new pg.Client({ connectionString: S.pgAdmin })
  await dropper.connect()
  await dropper.query(`DROP DATABASE IF EXISTS ${S.db}_observer WITH (FORCE)`)
  await dropper.end()
  const cpu = { gateway: meters.gateway.stop(), pgBackends: meters.pgBackends.stop(), pgBackground: meters.pgBackground.stop(), rabbitmq: meters.rabbitmq.stop() }
  // Event-loop delay on both sides: a stall in this process would inflate every latency it measures.
  const metrics = await (await fetch(`${api.replace('/api/v1', '')}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text()
  const gatewayLag = /^delivertrack_nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(metrics)?.[1]
  const loopP99Ms = loopDelay.percentile(99) / 1e6
  const gatewayLagMs = gatewayLag ? `${(Number(gatewayLag) * 1000).toFixed(1)} ms (since start)` : 'unknown'
  console.log(`slowest HTTP answer per second of the run (ms): ${slowestBySecond.map((v) => Math.round(v)).join(' ')}`)
  console.log(`event-loop delay p99: load generator ${loopP99Ms.toFixed(1)} ms, gateway ${gatewayLagMs}`)
  const lat = summary(latencies)
  const httpLat = summary(httpLatencies)
  for (const c of clients) c.terminate()
  await sleep(1000)

  console.log(`idle: ${S.idle} subscribed connections`)
  const rssBefore = rssBytes(gateway.pid!)
  const idle: WebSocket[] = []
  for (let i = 0; i < S.idle; i += 200) {
    idle.push(...(await Promise.all(Array.from({ length: Math.min(200, S.idle - i) }, (_, j) => openClient(wsUrl, `package:${tns[(i + j) % S.packages]}`)))))
  }
  await sleep(3000)
  const rssAfter = rssBytes(gateway.pid!)
  const stats = (await (await fetch(`${api}/stats`, { headers: { authorization: `Bearer ${token}` } })).json()) as { websocket: { connections: number } }
  for (const c of idle) c.terminate()

  // The same load with nobody subscribed: what the gateway spends on an update without fan-out.
  // After the idle phase, so its garbage does not blur the RSS per connection.
  await sleep(1000)
  const bareTotal = S.rate * S.bareS
  console.log(`no subscribers: ${S.rate} status updates/s for ${S.bareS} s`)
  const bareMeter = new CpuMeter(pidIn(() => [gateway.pid])).start()
  const bare: Array<Promise<unknown>> = []
  await paced(bareTotal, S.rate, (i) => {
    bare.push(postKeepAlive(port, `/api/v1/packages/${tns[i % S.packages]}/status`, { status: 'in_transit', note: `n${i}` }, token).catch(() => undefined))
  })
  await Promise.all(bare)
  // The relay publishes after the answers; give it the time the delivery run's tail had.
  await sleep(500)
  const bareCpu = bareMeter.stop()
  const fanout = expected / total
  const perUpdateUs = (cpu.gateway * 1e6) / total
  const bareUs = (bareCpu * 1e6) / bareTotal
  const perMessageFanoutUs = (perUpdateUs - bareUs) / fanout
  const pgCpu = cpu.pgBackends + cpu.pgBackground
  console.log(`CPU (load average ${loadAvg}): gateway ${usPer(cpu.gateway, total)}/update, ${usPer(cpu.gateway, delivered)}/message; no subscribers ${bareUs.toFixed(0)} µs/update; second gateway ${usPer(observerS, total)}/event (idle ${(observerIdlePerS * 1000).toFixed(0)} ms/s); ` +
    `fan-out ${perMessageFanoutUs.toFixed(1)} µs/message; PostgreSQL ${usPer(cpu.pgBackends, total)} + ${usPer(cpu.pgBackground, total)} background; RabbitMQ ${usPer(cpu.rabbitmq, total)}`)

  // Let it shut down on its own (a --cpu-prof profile is written at exit).
  const exited = new Promise((r) => gateway.once('exit', r))
  gateway.kill('SIGTERM')
  await Promise.race([exited, sleep(15_000)])

  const pct = expected ? (delivered / expected) * 100 : 0
  const rows = [
    `| measure | n | p50 ms | p95 ms | p99 ms |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    `| raw RabbitMQ publish -> consume (floor) | ${floorLat.n} | ${ms(floorLat.p50)} | ${ms(floorLat.p95)} | ${ms(floorLat.p99)} |`,
    `| HTTP status update -> its HTTP response (for reference) | ${httpLat.n} | ${ms(httpLat.p50)} | ${ms(httpLat.p95)} | ${ms(httpLat.p99)} |`,
    `| HTTP status update -> WebSocket receipt | ${lat.n} | ${ms(lat.p50)} | ${ms(lat.p95)} | ${ms(lat.p99)} |`,
  ]
  const verdicts = [
    `- delivered/expected: ${delivered}/${expected} (${pct.toFixed(2)}%), HTTP errors ${httpErrors}: ${delivered === expected && httpErrors === 0 ? 'PASS' : 'FAIL'} (target 100%)`,
    `- p99 ${ms(lat.p99)} ms, ${(lat.p99 / floorLat.p99).toFixed(1)}x the floor's p99: ${lat.p99 < 50 ? 'PASS' : 'FAIL'} (target < 50 ms)`,
    `- ${stats.websocket.connections} idle subscribed connections: RSS ${(rssBefore / 2 ** 20).toFixed(0)} MB -> ${(rssAfter / 2 ** 20).toFixed(0)} MB, ` +
      `${Math.round((rssAfter - rssBefore) / S.idle)} bytes per connection: ${rssAfter < 300 * 2 ** 20 ? 'PASS' : 'FAIL'} (target < 300 MB)`,
  ]
  console.log(['', ...rows, '', ...verdicts].join('\n'))

  const lats = (l: ReturnType<typeof summary>) => `p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)} ms (n ${l.n.toLocaleString('en-US')})`
  const passFail = (pass: boolean) => (pass ? 'PASS' : 'FAIL')
  const load = `${S.rate} updates/s for ${S.durationS} s over ${keepAlive.maxSockets} connections`
  const results: Result[] = [
    { figure: `raw RabbitMQ publish -> consume (floor), ${S.rate}/s`, value: lats(floorLat), baseline: 'baseline' },
    { figure: `status update -> its HTTP response, ${load}`, value: lats(httpLat), target: 'informative' },
    {
      figure: `status update -> WebSocket receipt, ${S.clients.toLocaleString('en-US')} clients over ${S.packages} packages, ${load}`,
      value: lats(lat),
      baseline: `p99 ${(lat.p99 / floorLat.p99).toFixed(1)}x the floor's`,
      target: `p99 < 50 ms: ${passFail(lat.p99 < 50)}`,
    },
    { figure: 'delivered / expected', value: `${delivered.toLocaleString('en-US')} / ${expected.toLocaleString('en-US')}, HTTP errors ${httpErrors}`, target: `100%: ${passFail(delivered === expected && httpErrors === 0)}` },
    {
      figure: `gateway RSS with ${stats.websocket.connections.toLocaleString('en-US')} idle subscribed connections`,
      value: `${(rssBefore / 2 ** 20).toFixed(0)} MB -> ${(rssAfter / 2 ** 20).toFixed(0)} MB, ${Math.round((rssAfter - rssBefore) / S.idle).toLocaleString('en-US')} bytes per connection`,
      target: `< 300 MB: ${passFail(rssAfter < 300 * 2 ** 20)}`,
    },
    {
      figure: `gateway CPU (/proc), same run; then ${S.bareS} s with no socket`,
      value: `${usPer(cpu.gateway, total)}/update, ${usPer(cpu.gateway, delivered)}/message delivered; no socket ${bareUs.toFixed(0)} µs/update: fan-out ${perMessageFanoutUs > 0 ? `${perMessageFanoutUs.toFixed(1)} µs/message` : 'within the noise'}; a second gateway, no socket: ${usPer(observerS, total)}/event its hub dropped (load ${loadAvg})`,
      baseline: `per core: ${perCore(cpu.gateway, total)} updates/s (${fanout.toFixed(0)} sockets each), ${perCore(bareCpu, bareTotal)} (none)`,
      target: 'informative',
    },
    {
      figure: 'PostgreSQL, RabbitMQ CPU (/proc) per update, same run',
      value: `PostgreSQL ${usPer(pgCpu, total)} (own backends ${usPer(cpu.pgBackends, total)}, background ${usPer(cpu.pgBackground, total)}); RabbitMQ node ${usPer(cpu.rabbitmq, total)} (whole node, shared)`,
      baseline: `per core: PostgreSQL ${perCore(pgCpu, total)} updates/s, RabbitMQ ${perCore(cpu.rabbitmq, total)}`,
      target: 'informative',
    },
    { figure: 'event-loop delay p99 during the run', value: `load generator ${loopP99Ms.toFixed(1)} ms, gateway ${gatewayLagMs}`, target: 'informative' },
  ]
  if (process.env.BENCH_NO_DOCS === '1' || process.env.BENCH_CPU_PROF_DIR) {
    console.log('docs/benchmarks.md left alone (BENCH_NO_DOCS or BENCH_CPU_PROF_DIR)')
  } else {
    writeResults('npm run bench:realtime', results)
    console.log(`wrote the rows of bench:realtime in ${BENCHMARKS_MD}`)
  }
  process.exit(delivered === expected ? 0 : 1)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
