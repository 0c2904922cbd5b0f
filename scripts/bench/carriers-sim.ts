// The three runs of `npm run bench:carriers` (carriers.ts): the real CarrierSync,
// PostgresTrackingStore and read path, on a clock the benchmark moves by hand.
import type pg from 'pg'
import type { Config } from '../../internal/config/config.js'
import { SYSTEM_ACTOR } from '../../internal/events/actor.js'
import type { RoleLogger } from '../../internal/events/roles.js'
import { AFTERSHIP_SIGNATURE_HEADER } from '../../internal/carrier/aftership.js'
import { providerFromConfig, syncSettingsFromConfig } from '../../internal/carrier/provider.js'
import { hmac } from '../../internal/carrier/provider-http.js'
import { webhookBody } from '../../internal/carrier/sandbox/push.js'
import type { Sandbox } from '../../internal/carrier/sandbox/server.js'
import { PostgresCarrierSyncReader } from '../../internal/carrier/sync-reads-postgres.js'
import { CarrierSync, type SyncSettings } from '../../internal/carrier/sync-service.js'
import { PostgresTrackingStore } from '../../internal/carrier/trackings-postgres.js'
import { CarrierWebhooks } from '../../internal/carrier/webhooks.js'
import { PostgresPushStore } from '../../internal/carrier/webhooks-postgres.js'
import { attribute, createExternalTracking } from '../../internal/package/entity.js'
import { PostgresTrackingListRepository } from '../../internal/package/tracking-list-postgres.js'

export interface Bench {
  pool: pg.Pool
  sandbox: Sandbox
  config: Config
  /** The virtual clock: the sandbox and the workers read it. */
  clock: { ms: number }
  log: (m: string) => void
}

const MIN = 60_000
const DAY = 1440 * MIN
const quiet: RoleLogger = { info: () => {}, warn: () => {}, error: () => {} }
const PUSH_SECRET = 'bench-webhook-secret'

/** A seeded generator (mulberry32): the same trackings, reads and jitter in every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A worker's CarrierSync as cmd/worker builds it (TRACKING_* defaults), on the virtual clock. */
const sandboxConfig = (b: Bench): Config => ({ ...b.config, CARRIER_PROVIDER: 'sandbox', CARRIER_API_URL: b.sandbox.url, CARRIER_WEBHOOK_SECRET: PUSH_SECRET })

function worker(b: Bench, settings: Partial<SyncSettings>, random: () => number): CarrierSync {
  const config = sandboxConfig(b)
  return new CarrierSync({
    store: new PostgresTrackingStore(b.pool),
    provider: providerFromConfig(config)!,
    settings: { ...syncSettingsFromConfig(config), ...settings },
    clock: () => new Date(b.clock.ms),
    random,
    log: quiet,
  })
}

/**
 * The gateway's push endpoint as the sandbox would reach it, in process: each
 * journey that moved since the last step is pushed, signed, and verified and
 * applied by the real CarrierWebhooks (signature check included).
 */
function pusher(b: Bench, random: () => number): () => Promise<number> {
  const config = sandboxConfig(b)
  const hooks = new CarrierWebhooks({ providers: [providerFromConfig(config)!], store: new PostgresPushStore(b.pool), settings: syncSettingsFromConfig(config), clock: () => new Date(b.clock.ms), random })
  return async () => {
    const moved = b.sandbox.state.takeAdvanced()
    let next = 0
    const lane = async () => {
      while (next < moved.length) {
        const body = webhookBody(b.sandbox.state, moved[next++]!, true)
        await hooks.receive('sandbox', { [AFTERSHIP_SIGNATURE_HEADER]: hmac(PUSH_SECRET, body, 'base64') }, Buffer.from(body))
      }
    }
    await Promise.all(Array.from({ length: 8 }, lane))
    return moved.length
  }
}

/** Passes back to back until one calls nothing (nothing due, or no budget left), as the role runs them. */
async function drain(sync: CarrierSync): Promise<number> {
  let called = 0
  for (;;) {
    const pass = await sync.runOnce()
    called += pass.called
    if (pass.called === 0) return called
  }
}

/** Forgets the previous run: the database's packages and carrier rows, the sandbox's trackings and counts. */
async function reset(b: Bench): Promise<void> {
  await b.pool.query('TRUNCATE packages, carrier_budget CASCADE')
  b.sandbox.state.reset()
}

/** Adds external trackings as POST /me/trackings does, each due at its own time; returns the package ids. */
async function addTrackings(b: Bench, items: Array<{ tn: string; at: Date }>): Promise<string[]> {
  const repo = new PostgresTrackingListRepository(b.pool)
  const { rows } = await b.pool.query<{ id: string }>(`INSERT INTO users (email, name, role) VALUES ('bench-' || gen_random_uuid() || '@example.com', 'Bench', 'customer') RETURNING id`)
  const ids: string[] = new Array<string>(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      const { tn, at } = items[i]!
      ids[i] = (await repo.createExternal(rows[0]!.id, attribute(createExternalTracking(tn, 'ups', at), SYSTEM_ACTOR), null)).pkg.id
    }
  }
  await Promise.all(Array.from({ length: 8 }, lane))
  return ids
}

/** The journeys followed, by sandbox prefix and percent; BENCH_CARRIERS_MIX overrides (`SBXDELIVERED:80,SBXFAILURE:20`). */
function journeyMix(): Array<{ prefix: string; pct: number }> {
  const spec = process.env.BENCH_CARRIERS_MIX || 'SBXDELIVERED:80,SBXRETURNED:5,SBXFAILURE:5,SBXPRETRANSIT:5,SBXUNKNOWN:3,SBXINTRANSIT:2'
  return spec.split(',').map((p) => {
    const [prefix, pct] = p.split(':')
    return { prefix: prefix!.trim().toUpperCase(), pct: Number(pct) }
  })
}

export interface SimResult {
  reads: number
  checks: number
  providerRequests: number
  readPulls: number
  peakDay: number
  budget: number
  pushes: number
  delaysMin: number[]
  byJourney: Array<{ name: string; trackings: number; checks: number; reads: number }>
}

/**
 * The call-reduction run. `budget`: calls per UTC day (null: one that never binds,
 * so the figure is what the schedule asks for rather than what a cap allows).
 */
export async function simulate(b: Bench, s: { trackings: number; days: number; readsPerDay: number; stepMin: number }, budget: number | null, withPushes = false): Promise<SimResult> {
  await reset(b)
  const rnd = seeded(19)
  const start = b.clock.ms
  const end = start + s.days * DAY
  const stepMs = s.stepMin * MIN
  const mix = journeyMix()
  const total = mix.reduce((a, m) => a + m.pct, 0)
  const items = Array.from({ length: s.trackings }, (_, i) => {
    let pick = rnd() * total
    const m = mix.find((x) => (pick -= x.pct) < 0) ?? mix[0]!
    return { tn: `${m.prefix}${String(i).padStart(6, '0')}`, at: new Date(start + rnd() * DAY), prefix: m.prefix }
  })
  const ids = await addTrackings(b, items)

  // Each tracking read readsPerDay times a day from when it was added, at random points of each slot.
  const steps = Math.ceil((end - start) / stepMs)
  const readsAt: string[][] = Array.from({ length: steps + 1 }, () => [])
  const readsBy = new Map<string, number>()
  let reads = 0
  items.forEach((it, i) => {
    for (let k = 0; ; k++) {
      const t = it.at.getTime() + (k + rnd()) * (DAY / s.readsPerDay)
      if (t >= end) break
      readsAt[Math.ceil((t - start) / stepMs)]!.push(ids[i]!)
      readsBy.set(it.prefix, (readsBy.get(it.prefix) ?? 0) + 1)
      reads += 1
    }
  })

  // More in flight than the default 5 only makes the run shorter: the calls asked for are the same.
  const sync = worker(b, { dailyBudget: budget ?? s.trackings * 100, maxConcurrent: 10, batchSize: 100 }, rnd)
  const reader = new PostgresCarrierSyncReader(b.pool)
  const push = withPushes ? pusher(b, rnd) : undefined
  let pushes = 0
  for (let step = 1; step <= steps; step++) {
    b.clock.ms = start + step * stepMs
    const now = new Date(b.clock.ms)
    if (push) pushes += await push()
    const due = readsAt[step]!
    for (let i = 0; i < due.length; i += 1000) await reader.read(due.slice(i, i + 1000), now)
    await drain(sync)
  }

  const one = async (sql: string) => Number((await b.pool.query<{ n: string }>(sql)).rows[0]!.n ?? 0)
  const { rows: delays } = await b.pool.query<{ m: number }>(`SELECT extract(epoch FROM recorded_at - occurred_at) / 60 AS m FROM package_events
    WHERE type = 'package.status_changed' AND actor->>'type' = 'carrier' AND data->>'status' IS DISTINCT FROM data->>'previousStatus'`)
  const { rows: per } = await b.pool.query<{ j: string; n: string; c: string }>(`SELECT regexp_replace(tracking_number, '[0-9]+$', '') AS j,
    count(DISTINCT tracking_number) AS n, count(*) FILTER (WHERE type <> 'webhook') AS c FROM carrier_update_log GROUP BY j ORDER BY j`)
  return {
    reads,
    checks: await one(`SELECT count(*) AS n FROM carrier_update_log WHERE type <> 'webhook'`),
    providerRequests: b.sandbox.state.counts.total,
    readPulls: await one(`SELECT count(*) AS n FROM carrier_update_log WHERE triggered_by = 'read'`),
    peakDay: await one('SELECT coalesce(max(used), 0) AS n FROM carrier_budget'),
    budget: budget ?? s.trackings * 100,
    pushes,
    delaysMin: delays.map((r) => Number(r.m)),
    byJourney: per.map((r) => ({ name: r.j, trackings: Number(r.n), checks: Number(r.c), reads: readsBy.get(r.j) ?? 0 })),
  }
}

/** Due trackings processed by one worker (answers unchanged: the common poll), against single-row INSERT ... RETURNING. */
export async function claimRate(b: Bench, jobs: number): Promise<{ jobsPerS: number; firstPerS: number; insertsPerS: number; concurrency: number }> {
  await reset(b)
  b.clock.ms += DAY
  const now = new Date(b.clock.ms)
  await addTrackings(b, Array.from({ length: jobs }, (_, i) => ({ tn: `SBXINTRANSIT${String(i).padStart(6, '0')}`, at: now })))
  const sync = worker(b, {}, seeded(7))
  const concurrency = syncSettingsFromConfig(b.config).maxConcurrent
  let t0 = performance.now()
  if ((await drain(sync)) !== jobs) throw new Error('claim rate: not every first check ran')
  const firstPerS = jobs / ((performance.now() - t0) / 1000)
  await b.pool.query('UPDATE carrier_trackings SET next_update_due = $1', [now])
  t0 = performance.now()
  if ((await drain(sync)) !== jobs) throw new Error('claim rate: not every recheck ran')
  const jobsPerS = jobs / ((performance.now() - t0) / 1000)

  await b.pool.query('CREATE TABLE IF NOT EXISTS bench_jobs (id bigserial PRIMARY KEY, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())')
  let next = 0
  const lane = async () => {
    while (next < jobs) await b.pool.query('INSERT INTO bench_jobs (payload) VALUES ($1) RETURNING id', [`job ${next++}`])
  }
  t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, lane))
  const insertsPerS = jobs / ((performance.now() - t0) / 1000)
  await b.pool.query('DROP TABLE bench_jobs')
  return { jobsPerS, firstPerS, insertsPerS, concurrency }
}

/** Two workers racing over more due trackings than the budget allows, one simulated day at a time. */
export async function budgetRace(b: Bench, jobs: number, budget: number): Promise<Array<{ day: number; sandboxRequests: number; used: number; limit: number }>> {
  await reset(b)
  b.clock.ms = Math.ceil(b.clock.ms / DAY) * DAY + DAY + 60 * MIN
  await addTrackings(b, Array.from({ length: jobs }, (_, i) => ({ tn: `SBXINTRANSIT${String(i).padStart(6, '0')}`, at: new Date(b.clock.ms) })))
  const [a, c] = [worker(b, { dailyBudget: budget }, seeded(1)), worker(b, { dailyBudget: budget }, seeded(2))]
  const out = []
  for (let day = 1; day <= 3; day++) {
    const before = b.sandbox.state.counts.total
    await b.pool.query('UPDATE carrier_trackings SET next_update_due = $1 WHERE active', [new Date(b.clock.ms)])
    await Promise.all([drain(a), drain(c)])
    const used = Number((await b.pool.query<{ used: number }>('SELECT used FROM carrier_budget WHERE day = $1::date', [new Date(b.clock.ms).toISOString().slice(0, 10)])).rows[0]?.used ?? 0)
    out.push({ day, sandboxRequests: b.sandbox.state.counts.total - before, used, limit: a.scheduledLimit })
    b.clock.ms += DAY
  }
  return out
}
