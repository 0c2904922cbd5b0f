/**
 * Investigation helper for the status-update route: replays, straight against
 * PostgreSQL (no HTTP, no auth, no Redis), the statements one
 * `POST /packages/:tn/status` issued through PostgresPackageRepository.update before
 * it became optimistic (BEGIN; SELECT ... FOR UPDATE; UPDATE ... RETURNING *; INSERT
 * events via unnest; COMMIT; mode "as-is"), next to the variants that led to today's
 * one-statement write ("one-statement"), with the gateway's pool size. Reports
 * throughput, the time spent in each step, what the backends were waiting on, and
 * HOT-update/bloat counters.
 *
 * Run after `npm run bench:api` (it reuses the bench database and its BW* packages):
 *   npx tsx scripts/bench/probe-status-db.ts
 * Environment: BENCH_DB (delivertrack_bench), PROBE_DURATION_S (8), PROBE_WORKERS (100),
 * PROBE_POOLS (20; comma list), PROBE_MODES (comma list, default all of):
 *   as-is         the gateway's locking transaction before the optimistic write
 *   no-notify     the same with triggers off for the session (session_replication_role = replica),
 *                 i.e. without the package_events_notify NOTIFY trigger
 *   async-commit  the same with synchronous_commit = off for the session (no WAL flush wait)
 *   no-notify+async-commit
 *   prepared      the same five statements as named prepared statements (parsed and planned once per connection)
 *   one-statement lock, update and event insert in a single CTE statement (one round trip, implicit
 *                 transaction), the shape a rewrite could take; the transition check would move into SQL
 * Every switch is session-level on the probe's own connections; nothing in the schema or server changes.
 */
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import pg from 'pg'

const env = process.env
const db = env.BENCH_DB?.trim() || 'delivertrack_bench'
const url = `postgres://postgres@127.0.0.1:5432/${db}`
const durationS = Number(env.PROBE_DURATION_S ?? 8)
const workers = Number(env.PROBE_WORKERS ?? 100)
const pools = (env.PROBE_POOLS ?? '20').split(',').map(Number)
type Variant = 'five' | 'prepared' | 'single'
const MODES: Record<string, { options: string; variant: Variant }> = {
  'as-is': { options: '', variant: 'five' },
  'no-notify': { options: '-c session_replication_role=replica', variant: 'five' },
  'async-commit': { options: '-c synchronous_commit=off', variant: 'five' },
  'no-notify+async-commit': { options: '-c session_replication_role=replica -c synchronous_commit=off', variant: 'five' },
  prepared: { options: '', variant: 'prepared' },
  'one-statement': { options: '', variant: 'single' },
}
const modes = (env.PROBE_MODES ?? Object.keys(MODES).join(',')).split(',').map((s) => s.trim())
for (const m of modes) if (!(m in MODES)) throw new Error(`unknown PROBE_MODES entry "${m}" (use ${Object.keys(MODES).join(', ')})`)
const APP = 'bench-probe-status'

const STEPS = ['pool.connect', 'BEGIN', 'SELECT FOR UPDATE', 'UPDATE', 'INSERT event', 'COMMIT'] as const
type Step = (typeof STEPS)[number]

const SQL = {
  select: 'SELECT * FROM packages WHERE tracking_number = $1 AND deleted_at IS NULL FOR UPDATE',
  update: 'UPDATE packages SET status = $3, version = version + 1, updated_at = $2, last_seq = last_seq + 1 WHERE id = $1 RETURNING *',
  insert: `INSERT INTO package_events (id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::jsonb[])`,
  single: `WITH cur AS (
      SELECT id, status FROM packages WHERE tracking_number = $1 AND deleted_at IS NULL FOR UPDATE
    ), upd AS (
      UPDATE packages p SET status = $2, version = p.version + 1, updated_at = $3, last_seq = p.last_seq + 1
      FROM cur WHERE p.id = cur.id RETURNING p.*, cur.status AS previous_status
    ), ins AS (
      INSERT INTO package_events (id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data)
      SELECT $4, upd.id, upd.last_seq, 'package.status_changed', upd.tracking_number, $3, $3,
             jsonb_build_object('status', $2::text, 'previousStatus', upd.previous_status, 'note', $5::text)
      FROM upd
    )
    SELECT * FROM upd`,
}

async function oneStatement(pool: pg.Pool, tn: string, acc: Record<Step, number>): Promise<void> {
  const t = performance.now()
  const now = new Date()
  await pool.query({ name: 'status-one', text: SQL.single, values: [tn, 'in_transit', now, randomUUID(), 'checkpoint'] })
  acc.COMMIT += performance.now() - t // one round trip: reported under COMMIT
}

async function oneUpdate(pool: pg.Pool, tn: string, acc: Record<Step, number>, prepared = false): Promise<void> {
  const q = (name: string, text: string) => (prepared ? { name, text } : { text })
  let t = performance.now()
  const lap = (s: Step) => {
    const now = performance.now()
    acc[s] += now - t
    t = now
  }
  const client = await pool.connect()
  lap('pool.connect')
  try {
    await client.query('BEGIN')
    lap('BEGIN')
    const { rows } = await client.query({ ...q('status-select', SQL.select), values: [tn] })
    lap('SELECT FOR UPDATE')
    const cur = rows[0] as { id: string; last_seq: number | string; tracking_number: string }
    const now = new Date()
    const updated = await client.query({ ...q('status-update', SQL.update), values: [cur.id, now, 'in_transit'] })
    lap('UPDATE')
    const seq = Number(cur.last_seq) + 1
    await client.query({
      ...q('status-insert', SQL.insert),
      values: [[randomUUID()], [cur.id], [seq], ['package.status_changed'], [cur.tracking_number], [now], [now], [JSON.stringify({ status: 'in_transit', previousStatus: 'in_transit', note: 'checkpoint' })]],
    })
    lap('INSERT event')
    await client.query('COMMIT')
    lap('COMMIT')
    void updated
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}

/** CPU ticks (1/100 s) of the PostgreSQL backends serving the bench database, by pid:starttime. */
function pgTicks(): Map<string, number> {
  const out = new Map<string, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const st = readFileSync(`/proc/${name}/stat`, 'utf8')
      const close = st.lastIndexOf(')')
      if (st.slice(st.indexOf('(') + 1, close) !== 'postgres') continue
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(` ${db} `)) continue
      const f = st.slice(close + 2).split(' ')
      out.set(`${name}:${f[19]}`, Number(f[11]) + Number(f[12]))
    } catch {
      // gone
    }
  }
  return out
}
const ticksBetween = (a: Map<string, number>, b: Map<string, number>) => [...b].reduce((sum, [k, t]) => sum + t - (a.get(k) ?? 0), 0)

async function tableStats(c: pg.Client) {
  const { rows } = await c.query(
    `SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot, n_dead_tup::int AS dead,
            pg_relation_size('packages')::bigint AS heap, pg_indexes_size('packages')::bigint AS idx
       FROM pg_stat_user_tables WHERE relname = 'packages'`,
  )
  return rows[0] as { upd: number; hot: number; dead: number; heap: string; idx: string }
}

async function run(poolMax: number, mode: string, tns: string[], admin: pg.Client) {
  const { options, variant } = MODES[mode]!
  const pool = new pg.Pool({ connectionString: url, max: poolMax, application_name: APP, ...(options ? { options } : {}) })
  await Promise.all(Array.from({ length: poolMax }, async () => (await pool.connect()).release()))
  const acc = Object.fromEntries(STEPS.map((s) => [s, 0])) as Record<Step, number>
  const lat: number[] = []
  const waits = new Map<string, number>()
  let samples = 0
  let i = 0
  let stop = false
  await admin.query('SELECT pg_stat_clear_snapshot()')
  const before = await tableStats(admin)
  const sampler = (async () => {
    while (!stop) {
      const { rows } = await admin.query(
        `SELECT coalesce(wait_event_type || ':' || wait_event, state) AS w, count(*)::int AS n
           FROM pg_stat_activity WHERE application_name = $1 GROUP BY 1`,
        [APP],
      )
      samples++
      for (const r of rows as Array<{ w: string; n: number }>) waits.set(r.w, (waits.get(r.w) ?? 0) + r.n)
      await new Promise((ok) => setTimeout(ok, 50))
    }
  })()
  const ticksBefore = pgTicks()
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const end = started + durationS * 1000
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        const t = performance.now()
        const tn = tns[i++ % tns.length]!
        if (variant === 'single') await oneStatement(pool, tn, acc)
        else await oneUpdate(pool, tn, acc, variant === 'prepared')
        lat.push(performance.now() - t)
      }
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  const pgCpuS = ticksBetween(ticksBefore, pgTicks()) / 100
  const cpu = process.cpuUsage(cpuBefore)
  stop = true
  await sampler
  await pool.end()
  await new Promise((ok) => setTimeout(ok, 1500)) // let the backends report their stats
  await admin.query('SELECT pg_stat_clear_snapshot()')
  const after = await tableStats(admin)

  lat.sort((a, b) => a - b)
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(1)
  const n = lat.length
  console.log(`\n${mode}: pool ${poolMax}, ${workers} concurrent callers: ${Math.round(n / elapsed)} tx/s, latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`)
  console.log(`  CPU per update: postgres backends ${Math.round((pgCpuS * 1e6) / n)} µs, this client ${Math.round((cpu.user + cpu.system) / n)} µs`)
  console.log('  mean ms per update by step: ' + STEPS.map((s) => `${s} ${(acc[s] / n).toFixed(2)}`).join(', '))
  const waitTotal = [...waits.values()].reduce((a, b) => a + b, 0)
  console.log(
    `  backends (avg of ${samples} samples of pg_stat_activity): ` +
      [...waits].sort((a, b) => b[1] - a[1]).map(([w, c]) => `${w} ${(c / samples).toFixed(1)}`).join(', ') +
      ` (of ${(waitTotal / samples).toFixed(1)} connections)`,
  )
  const upd = after.upd - before.upd
  console.log(
    `  packages: ${upd} updates, ${after.hot - before.hot} HOT (${upd ? Math.round(((after.hot - before.hot) / upd) * 100) : 0}%), ` +
      `dead tuples ${after.dead}, heap ${(Number(after.heap) / 1024).toFixed(0)} kB, indexes ${(Number(after.idx) / 1024).toFixed(0)} kB`,
  )
}

async function main() {
  const admin = new pg.Client({ connectionString: url, application_name: 'bench-probe-admin' })
  await admin.connect()
  try {
    const { rows } = await admin.query(`SELECT tracking_number FROM packages WHERE status = 'in_transit' AND tracking_number LIKE 'BW%' AND deleted_at IS NULL ORDER BY tracking_number`)
    const tns = rows.map((r: { tracking_number: string }) => r.tracking_number)
    // The one-statement variant reads last_seq after the update, so seqs stay consecutive across variants.
    if (tns.length === 0) throw new Error(`no BW* packages in ${db}: run npm run bench:api first`)
    console.log(`${tns.length} packages in ${db}; ${durationS} s per run`)
    for (const poolMax of pools) for (const mode of modes) await run(poolMax, mode, tns, admin)
  } finally {
    await admin.end()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
