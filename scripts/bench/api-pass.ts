// bench:api's passes over the gateway, the same scenarios in each mode: services
// (PostgreSQL, Redis, RabbitMQ, a worker stand-in) and embedded (no service URLs: PGlite,
// memory stores, the in-process bus and the worker roles, all in the gateway's process).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import type { Redis } from 'ioredis'
import { closePacedPools, measure, type Measured, type Target } from './api-load.js'
import { api, freshDatabase, freshVhost, pool, startServer, startStandIn, waitForBroker, type Child } from './api-servers.js'
import { fmtInt, gatewayDbUrl, log, ROOT, RUN_ID, runs, S, type Mode, type Phase } from './api-settings.js'
import { HOST, recreateVhost, stopNode } from './support.js'

export type PassResults = Map<Phase, Measured>

const ADMIN_EMAIL = 'bench-admin@example.com'
const label = (mode: Mode, text: string) => `${mode}: ${text}`

/** The gateway with the settings both passes share plus `env` (which decides its mode). */
async function startGateway(mode: Mode, env: Record<string, string>): Promise<{ gw: Child; password: string }> {
  const password = randomBytes(12).toString('base64url')
  const gw = await startServer(mode === 'services' ? 'gateway' : 'gateway-embedded', join(ROOT, 'dist/cmd/gateway/main.js'), {
    JWT_SECRET: randomBytes(24).toString('base64url'),
    JWT_ACCESS_TTL_S: '7200',
    ADMIN_EMAIL,
    ADMIN_PASSWORD: password,
    // Raised so that nothing is refused, but kept on: their cost is part of each request.
    RATE_LIMIT_MAX: '1000000000',
    RATE_LIMIT_TRACK_MAX: '1000000000',
    CACHE_TTL_S: '3600',
    ...env,
    ...S.gatewayEnv,
  }, '/health')
  return { gw, password }
}

interface Seeded {
  gw: Child
  auth: Record<string, string>
  readTns: string[]
  writeTns: string[]
}

/** Logs in as the admin, creates the packages through the API (status in_transit) and warms the caches the reads hit. */
async function seed(gw: Child, password: string): Promise<Seeded> {
  const base = `http://${HOST}:${gw.port}/api/v1`
  const { accessToken: token } = await api<{ accessToken: string }>(base, 'POST', '/auth/login', { email: ADMIN_EMAIL, password })
  const numbers = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${RUN_ID}${String(i).padStart(5, '0')}`)
  const readTns = numbers('BR', S.readPackages)
  const writeTns = numbers('BW', S.writePackages)
  const started = performance.now()
  log(`seeding ${readTns.length + writeTns.length} packages through the API (status in_transit)`)
  await pool([...readTns, ...writeTns], 16, async (tn) => {
    await api(base, 'POST', '/packages', {
      trackingNumber: tn,
      carrier: 'delivertrack',
      description: 'benchmark parcel',
      weightGrams: 1200,
      sender: { name: 'Bench Sender', address: '1 Load Street, Testville' },
      recipient: { name: 'Bench Recipient', address: '2 Latency Road, Testville', email: 'recipient@example.com' },
    }, token)
    await api(base, 'POST', `/packages/${tn}/status`, { status: 'in_transit', note: 'picked up' }, token)
  })
  log(`  seeded in ${((performance.now() - started) / 1000).toFixed(1)} s; warming the cache (one GET per package and route)`)
  await pool(readTns, 16, async (tn) => {
    await api(base, 'GET', `/track/${tn}`)
    await api(base, 'GET', `/packages/${tn}`, undefined, token)
  })
  return { gw, auth: { authorization: `Bearer ${token}` }, readTns, writeTns }
}

/** (2) public tracking on a cache hit, (3) the authenticated read. */
async function readPhases(mode: Mode, s: Seeded, results: PassResults, redis: Redis | undefined): Promise<void> {
  const server = s.gw.proc.pid!
  if (runs('track')) {
    const paths = s.readTns.map((tn) => `/api/v1/track/${tn}`)
    results.set('track', await measure('track', label(mode, 'GET /api/v1/track/:tn (cache hit)'), { port: s.gw.port, method: 'GET', paths }, { server }, redis))
  }
  if (runs('get')) {
    const paths = s.readTns.map((tn) => `/api/v1/packages/${tn}`)
    results.set('get', await measure('get', label(mode, 'GET /api/v1/packages/:tn (admin JWT)'), { port: s.gw.port, method: 'GET', paths, headers: s.auth }, { server }, redis))
  }
}

/** Status checkpoints, in_transit -> in_transit, spread over the write packages. */
const statusTarget = (s: Seeded, rate?: number): Target => ({
  port: s.gw.port,
  method: 'POST',
  paths: s.writeTns.map((tn) => `/api/v1/packages/${tn}/status`),
  headers: { ...s.auth, 'content-type': 'application/json' },
  body: JSON.stringify({ status: 'in_transit', note: 'checkpoint' }),
  rate,
})
const STATUS_LABEL = 'POST /api/v1/packages/:tn/status'

function finish(gw: Child): void {
  closePacedPools()
  if (gw.proc.exitCode !== null) throw new Error(`the gateway exited during the run:\n${gw.output()}`)
  const out = gw.output().trim()
  if (out) log(`gateway output (last lines):\n${out.split('\n').slice(-10).join('\n')}`)
}

/**
 * The services mode on a fresh database and a vhost of the run's own: (2)-(3), then
 * (4) status updates flat out and (5) at the target rate while a worker stand-in
 * consumes the worker queues, and (6) the paced run again with no consumer.
 */
export async function servicesPass(redis: Redis | undefined): Promise<PassResults> {
  const results: PassResults = new Map()
  await freshDatabase()
  const vhost = S.amqpUrl ? { url: S.amqpUrl, created: false } : freshVhost()
  try {
    const { gw, password } = await startGateway('services', { DATABASE_URL: gatewayDbUrl, REDIS_URL: S.redisUrl, AMQP_URL: vhost.url })
    try {
      await waitForBroker(`http://${HOST}:${gw.port}`)
      const s = await seed(gw, password)
      await readPhases('services', s, results, redis)
      const standIn = runs('status') || runs('status-paced') ? await startStandIn(vhost) : undefined
      const pids = { server: gw.proc.pid!, standIn: standIn?.child.proc.pid }
      if (runs('status')) {
        results.set('status', await measure('status', label('services', STATUS_LABEL), statusTarget(s), pids, redis))
        await standIn?.check()
      }
      if (runs('status-paced')) {
        const text = `${STATUS_LABEL} at ${fmtInt(S.statusRate)} req/s offered`
        results.set('status-paced', await measure('status-paced', label('services', text), statusTarget(s, S.statusRate), pids, redis))
        await standIn?.check()
      }
      if (standIn) await stopNode(standIn.child)
      if (runs('status-paced-nowork')) {
        const text = `${STATUS_LABEL} at ${fmtInt(S.statusRate)} req/s offered, no worker (queues fill)`
        results.set('status-paced-nowork', await measure('status-paced-nowork', label('services', text), statusTarget(s, S.statusRate), { server: gw.proc.pid! }, redis))
      }
      finish(gw)
    } finally {
      await stopNode(gw)
    }
  } finally {
    await forgetRunKeys(redis)
    if (vhost.created) {
      recreateVhost(S.amqpVhost, false)
      log(`RabbitMQ vhost ${S.amqpVhost} deleted`)
    }
  }
  return results
}

/** No FLUSH of a shared Redis: deletes only the keys naming this run's tracking numbers (rate-limit counters expire within a minute). */
async function forgetRunKeys(redis: Redis | undefined): Promise<void> {
  if (!redis) return
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${RUN_ID}*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } catch (err) {
    log(`could not delete this run's Redis keys: ${(err as Error).message}`)
  }
}

/**
 * The paced rate of the embedded pass: the target's when it answered at least that many
 * flat out, else 80% of what it answered, so the run reads the latency of a rate it
 * sustains rather than of a queue growing for the whole run.
 */
function embeddedPacedRate(flat: Measured | undefined): number {
  if (!flat || flat.reqPerSec >= S.statusRate) return S.statusRate
  return Math.max(50, Math.floor((flat.reqPerSec * 0.8) / 50) * 50)
}

/**
 * The embedded mode: the same gateway started with no service URLs on a fresh DATA_DIR
 * (removed after), its worker roles in its own process, which is what a user of
 * `make run` gets. (2)-(5) as in the services pass; no stand-in and no (6), since the
 * workers cannot be stopped apart from the gateway.
 */
export async function embeddedPass(): Promise<PassResults> {
  const results: PassResults = new Map()
  const dataDir = mkdtempSync(join(os.tmpdir(), 'bench-api-embedded-'))
  log(`embedded gateway on DATA_DIR ${dataDir}`)
  try {
    const { gw, password } = await startGateway('embedded', { DATA_DIR: dataDir })
    try {
      const s = await seed(gw, password)
      await readPhases('embedded', s, results, undefined)
      const pids = { server: gw.proc.pid! }
      if (runs('status')) results.set('status', await measure('status', label('embedded', STATUS_LABEL), statusTarget(s), pids, undefined))
      if (runs('status-paced')) {
        const rate = embeddedPacedRate(results.get('status'))
        const why = rate === S.statusRate ? '' : ` (80% of its flat-out rate, which is below ${fmtInt(S.statusRate)})`
        if (why) log(`embedded: pacing the status updates at ${fmtInt(rate)} req/s${why}`)
        const text = `${STATUS_LABEL} at ${fmtInt(rate)} req/s offered${why}`
        results.set('status-paced', await measure('status-paced', label('embedded', text), statusTarget(s, rate), pids, undefined))
      }
      if (runs('status-paced-nowork')) log('embedded: no run without workers (their roles run inside the gateway)')
      finish(gw)
    } finally {
      await stopNode(gw)
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
  return results
}
