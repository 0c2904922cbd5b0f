/**
 * `npm run bench:carriers`: the carrier sync (issue 19) on the real scheduling code
 * (internal/carrier: SKIP LOCKED claims, the frequency policy, the budget) on
 * PostgreSQL, against the sandbox provider over HTTP, all in this process on one
 * virtual clock. Three figures, each with a baseline from the same run:
 *
 * 1. Call reduction. BENCH_CARRIERS_TRACKINGS (10,000) trackings, added at random
 *    times during the first simulated day, followed for BENCH_CARRIERS_DAYS (7)
 *    days. Customers read each tracking BENCH_CARRIERS_READS (5) times a day from
 *    when it was added, through the real read path (PostgresCarrierSyncReader, which
 *    pulls an overdue tracking forward). The clock moves BENCH_CARRIERS_STEP_MIN (5)
 *    minutes at a time and the worker's pass runs until nothing is due. The baseline
 *    asks the provider on every read: as many calls as reads. Also the median delay
 *    from a status change at the sandbox (the scan's time) to our event.
 * 2. Claim rate. BENCH_CARRIERS_CLAIM_JOBS (2,000) due trackings, processed by one
 *    worker with a sandbox that answers at once; baseline: as many single-row
 *    `INSERT ... RETURNING` statements with the same number in flight.
 * 3. Budget. Two workers race over BENCH_CARRIERS_BUDGET_JOBS (1,000) due trackings
 *    with a daily budget of BENCH_CARRIERS_BUDGET (300), on 3 simulated days; the
 *    sandbox's count of requests must never pass the scheduled share of the budget.
 *
 * Replaces the rows of bench:carriers in docs/benchmarks.md (not with BENCH_NO_DOCS=1).
 */
import pg from 'pg'
import { loadConfig } from '../../internal/config/config.js'
import { startSandbox, type Sandbox } from '../../internal/carrier/sandbox/server.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { percentile, recreateDatabase, writeResults, type Result } from './support.js'
import { budgetRace, claimRate, simulate, type Bench } from './carriers-sim.js'

const num = (name: string, def: number) => Number(process.env[name] || def)
const S = {
  trackings: num('BENCH_CARRIERS_TRACKINGS', 10_000),
  days: num('BENCH_CARRIERS_DAYS', 7),
  readsPerDay: num('BENCH_CARRIERS_READS', 5),
  stepMin: num('BENCH_CARRIERS_STEP_MIN', 5),
  claimJobs: num('BENCH_CARRIERS_CLAIM_JOBS', 2_000),
  budgetJobs: num('BENCH_CARRIERS_BUDGET_JOBS', 1_000),
  budget: num('BENCH_CARRIERS_BUDGET', 300),
  db: 'delivertrack_bench_carriers',
  pgAdmin: 'postgres://postgres@127.0.0.1:5432/postgres',
}
const log = (m: string) => console.log(`[bench:carriers] ${m}`)
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

async function main(): Promise<void> {
  await recreateDatabase(S.pgAdmin, S.db)
  const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${S.db}`, max: 12 })
  // Defaults of every TRACKING_* setting, as a worker without them set would run.
  const config = loadConfig({ DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${S.db}` })
  const clock = { ms: Date.parse('2026-12-07T00:00:00Z') }
  let sandbox: Sandbox | undefined
  try {
    await migrate(pool)
    sandbox = await startSandbox({ port: 0, speed: 1, clock: () => clock.ms })
    const bench: Bench = { pool, sandbox, config, clock, log }
    const results: Result[] = []

    log(`call reduction: ${fmt(S.trackings)} trackings, ${S.days} simulated days, ${S.readsPerDay} reads per tracking per day, ${S.stepMin}-minute steps`)
    const t0 = performance.now()
    const sim = await simulate(bench, S)
    const cut = 1 - sim.providerRequests / sim.reads
    const delays = [...sim.delaysMin].sort((a, b) => a - b)
    log(`  ${fmt(sim.checks)} checks (${fmt(sim.providerRequests)} sandbox requests, creations included) against ${fmt(sim.reads)} reads (the baseline's calls): ${fmt(cut * 100, 1)}% fewer, ${cut >= 0.8 ? 'PASS' : 'FAIL'} (target 80%)`)
    log(`  reads that queued a refresh: ${fmt(sim.readPulls)}; peak day ${fmt(sim.peakDay)} calls (budget ${fmt(sim.budget)})`)
    for (const j of sim.byJourney) log(`    ${j.name.padEnd(13)} ${fmt(j.trackings).padStart(6)} trackings: ${fmt(j.checks / j.trackings, 1).padStart(5)} checks and ${fmt(j.reads / j.trackings, 1).padStart(5)} reads each`)
    log(`  status change at the sandbox -> our event: median ${fmt(percentile(delays, 50), 1)} min, p90 ${fmt(percentile(delays, 90), 1)} min over ${fmt(delays.length)} changes (${fmt((performance.now() - t0) / 1000, 0)} s real time)`)
    results.push(
      { figure: `carrier calls, ${fmt(S.trackings)} trackings x ${S.days} simulated days, ${S.readsPerDay} reads/tracking/day`, value: `${fmt(sim.providerRequests)} sandbox requests (${fmt(sim.checks)} checks)`, baseline: `${fmt(sim.reads)} (a call per read); ${fmt(cut * 100, 1)}% fewer`, target: `>= 80% fewer: ${cut >= 0.8 ? 'PASS' : 'FAIL'}` },
      { figure: 'carrier status change -> event, median (p90)', value: `${fmt(percentile(delays, 50), 1)} min (${fmt(percentile(delays, 90), 1)} min)`, baseline: `${S.stepMin}-minute steps`, target: 'informative' },
    )

    const claim = await claimRate(bench, S.claimJobs)
    const ratio = claim.jobsPerS / claim.insertsPerS
    log(`claim rate: ${fmt(claim.jobsPerS)} jobs/s (${fmt(1000 / claim.jobsPerS, 2)} ms each, ${claim.concurrency} in flight; first checks ${fmt(claim.firstPerS)}/s) against ${fmt(claim.insertsPerS)} INSERT ... RETURNING/s: ${fmt(ratio, 3)}x`)
    results.push({ figure: `carrier jobs processed/s, sandbox answering at once (${fmt(S.claimJobs)} jobs)`, value: `${fmt(claim.jobsPerS)}/s (${fmt(1000 / claim.jobsPerS, 2)} ms/job)`, baseline: `${fmt(claim.insertsPerS)} INSERT ... RETURNING/s; ${fmt(ratio, 3)}x`, target: 'informative' })

    const race = await budgetRace(bench, S.budgetJobs, S.budget)
    const ok = race.every((d) => d.sandboxGets <= d.limit && d.used <= S.budget)
    for (const d of race) log(`budget, day ${d.day}: two workers, ${fmt(d.sandboxGets)} sandbox GETs, ${fmt(d.used)} counted, scheduled share ${fmt(d.limit)} of ${fmt(S.budget)}`)
    log(`budget: ${ok ? 'PASS, never exceeded' : 'FAIL, exceeded'}`)
    results.push({ figure: `carrier budget, two workers racing (${fmt(S.budgetJobs)} due, budget ${S.budget}, 3 days)`, value: race.map((d) => `${d.sandboxGets}`).join(', ') + ' calls', baseline: `scheduled share ${race[0]?.limit ?? 0}`, target: `never exceeded: ${ok ? 'PASS' : 'FAIL'}` })

    if (process.env.BENCH_NO_DOCS !== '1') writeResults('npm run bench:carriers', results)
  } finally {
    await sandbox?.close()
    await pool.end()
    await recreateDatabase(S.pgAdmin, S.db, false)
  }
}

await main()
