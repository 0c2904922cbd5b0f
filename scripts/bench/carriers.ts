/**
 * `npm run bench:carriers`: the carrier sync (issue 19) on the real scheduling code
 * (internal/carrier: SKIP LOCKED claims, the frequency policy, the budget) on
 * PostgreSQL, against the sandbox provider over HTTP, all in this process on one
 * virtual clock. Three figures, each with a baseline from the same run:
 *
 * 1. Call reduction. BENCH_CARRIERS_TRACKINGS trackings (500 by default, to stay
 *    within minutes on 2 cores; the figure is 10,000, and every tracking is
 *    independent, so the ratio does not depend on it), added at random times during
 *    the first simulated day (BENCH_CARRIERS_MIX: which sandbox journeys), followed
 *    for BENCH_CARRIERS_DAYS (7) days. Customers read each tracking BENCH_CARRIERS_READS (5) times a day from
 *    when it was added, through the real read path (PostgresCarrierSyncReader, which
 *    pulls an overdue tracking forward). The clock moves BENCH_CARRIERS_STEP_MIN (5)
 *    minutes at a time and the worker's pass runs until nothing is due. The baseline
 *    asks the provider on every read: as many calls as reads. Also the median delay
 *    from a status change at the sandbox (the scan's time) to our event. Run three
 *    times: polling alone with a budget that never binds (what the status schedule
 *    asks for); with the sandbox pushing each scan to the real webhook handler, as
 *    AfterShip does once webhooks are set up (polling becomes a daily safety net,
 *    TRACKING_PUSHED_FREQ); and polling alone under TRACKING_DAILY_BUDGET scaled to
 *    the trackings run (its default is per 10,000).
 * 2. Claim rate. BENCH_CARRIERS_CLAIM_JOBS (2,000) due trackings, processed by one
 *    worker with a sandbox that answers at once; baseline: as many single-row
 *    `INSERT ... RETURNING` statements with the same number in flight.
 * 3. Budget. Two workers race over BENCH_CARRIERS_BUDGET_JOBS (1,000) due trackings
 *    with a daily budget of BENCH_CARRIERS_BUDGET (300), on 3 simulated days; the
 *    sandbox's count of requests must never pass the scheduled share of the budget.
 *
 * BENCH_CARRIERS_RUNS picks some of polling, pushes, budget, claim, race (default all).
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
  trackings: num('BENCH_CARRIERS_TRACKINGS', 500),
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
  const url = `postgres://postgres@127.0.0.1:5432/${S.db}`
  const pool = new pg.Pool({ connectionString: url, max: 12 })
  // The simulation counts calls, not time: its commits need not wait for the disk.
  const simPool = new pg.Pool({ connectionString: url, max: 12, options: '-c synchronous_commit=off' })
  // TRACKING_* from the environment (defaults otherwise), as a worker reads them.
  const config = loadConfig({ ...process.env, DATABASE_URL: url })
  const clock = { ms: Date.parse('2026-12-07T00:00:00Z') }
  let sandbox: Sandbox | undefined
  try {
    await migrate(pool)
    sandbox = await startSandbox({ port: 0, speed: 1, clock: () => clock.ms })
    const bench: Bench = { pool, sandbox, config, clock, log }
    const results: Result[] = []
    // The schedule alone (a budget that never binds), then under TRACKING_DAILY_BUDGET scaled to the trackings run.
    const capped = Math.round((config.TRACKING_DAILY_BUDGET * S.trackings) / 10_000)
    const runs: Array<{ name: string; budget: number | null; pushes: boolean; what: string }> = [
      { name: 'polling', budget: null, pushes: false, what: 'polling alone, budget never binding' },
      { name: 'pushes', budget: null, pushes: true, what: 'sandbox pushes each scan (webhooks), budget never binding' },
      { name: 'budget', budget: capped, pushes: false, what: `polling alone, budget ${fmt(capped)}/day (TRACKING_DAILY_BUDGET per 10,000 trackings)` },
    ]
    const chosen = (process.env.BENCH_CARRIERS_RUNS || 'polling,pushes,budget,claim,race').split(',').map((r) => r.trim())
    for (const { budget, pushes, what } of runs.filter((r) => chosen.includes(r.name))) {
      log(`call reduction, ${what}: ${fmt(S.trackings)} trackings, ${S.days} simulated days, ${S.readsPerDay} reads per tracking per day, ${S.stepMin}-minute steps`)
      const t0 = performance.now()
      const sim = await simulate({ ...bench, pool: simPool }, S, budget, pushes)
      const cut = 1 - sim.providerRequests / sim.reads
      const pass = cut >= 0.8 ? 'PASS' : 'FAIL'
      const delays = [...sim.delaysMin].sort((a, b) => a - b)
      const [p50, p90] = [fmt(percentile(delays, 50), 1), fmt(percentile(delays, 90), 1)]
      log(`  ${fmt(sim.checks)} checks, ${fmt(sim.providerRequests)} sandbox requests (creations included) against ${fmt(sim.reads)} reads (the baseline's calls): ${fmt(cut * 100, 1)}% fewer, ${pass} (target 80%)`)
      log(`  reads that queued a refresh: ${fmt(sim.readPulls)}; pushes applied: ${fmt(sim.pushes)} (free); busiest day ${fmt(sim.peakDay)} calls (budget ${fmt(sim.budget)})`)
      for (const j of sim.byJourney) log(`    ${j.name.padEnd(13)} ${fmt(j.trackings).padStart(6)} trackings: ${fmt(j.checks / j.trackings, 1).padStart(5)} checks and ${fmt(j.reads / j.trackings, 1).padStart(5)} reads each`)
      log(`  status change at the sandbox -> our event: median ${p50} min, p90 ${p90} min over ${fmt(delays.length)} changes (${fmt((performance.now() - t0) / 1000)} s real time)`)
      results.push(
        { figure: `carrier calls, ${fmt(S.trackings)} trackings x ${S.days} days x ${S.readsPerDay} reads/day; ${what}`, value: `${fmt(sim.providerRequests)} sandbox requests (${fmt(sim.checks)} checks)`, baseline: `${fmt(sim.reads)} (a call per read); ${fmt(cut * 100, 1)}% fewer`, target: `>= 80% fewer: ${pass}` },
        { figure: `carrier status change -> event, median (p90); ${what}`, value: `${p50} min (${p90} min)`, baseline: `${S.stepMin}-minute steps`, target: 'informative' },
      )
    }

    if (chosen.includes('claim')) {
      const claim = await claimRate(bench, S.claimJobs)
      const ratio = claim.jobsPerS / claim.insertsPerS
      log(`claim rate: ${fmt(claim.jobsPerS)} jobs/s (${fmt(1000 / claim.jobsPerS, 2)} ms each, ${claim.concurrency} in flight; first checks ${fmt(claim.firstPerS)}/s) against ${fmt(claim.insertsPerS)} INSERT ... RETURNING/s: ${fmt(ratio, 3)}x`)
      results.push({ figure: `carrier jobs processed/s, sandbox answering at once (${fmt(S.claimJobs)} jobs)`, value: `${fmt(claim.jobsPerS)}/s (${fmt(1000 / claim.jobsPerS, 2)} ms/job)`, baseline: `${fmt(claim.insertsPerS)} INSERT ... RETURNING/s; ${fmt(ratio, 3)}x`, target: 'informative' })
    }

    if (chosen.includes('race')) {
      const race = await budgetRace(bench, S.budgetJobs, S.budget)
      const ok = race.every((d) => d.sandboxRequests <= d.limit && d.used <= S.budget)
      for (const d of race) log(`budget, day ${d.day}: two workers, ${fmt(d.sandboxRequests)} sandbox requests, ${fmt(d.used)} counted, scheduled share ${fmt(d.limit)} of ${fmt(S.budget)}`)
      log(`budget: ${ok ? 'PASS, never exceeded' : 'FAIL, exceeded'}`)
      results.push({ figure: `carrier budget, two workers racing (${fmt(S.budgetJobs)} due, budget ${S.budget}, 3 days)`, value: race.map((d) => `${d.sandboxRequests}`).join(', ') + ' requests', baseline: `scheduled share ${race[0]?.limit ?? 0}`, target: `never exceeded: ${ok ? 'PASS' : 'FAIL'}` })
    }

    // A partial or larger run keeps its own rows beside the default run's.
    const env = ['BENCH_CARRIERS_TRACKINGS', 'BENCH_CARRIERS_RUNS'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]} `).join('')
    if (process.env.BENCH_NO_DOCS !== '1') writeResults(`${env}npm run bench:carriers`, results)
  } finally {
    await sandbox?.close()
    await pool.end()
    await simPool.end()
    await recreateDatabase(S.pgAdmin, S.db, false)
  }
}

await main()
