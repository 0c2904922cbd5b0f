import t from 'tap'
import { createPool } from '../platform/db/postgres.js'
import { isolate } from '../platform/testing/harness.js'
import type { Package } from './domain.js'
import { createPackage, type Change } from './entity.js'
import { PostgresPackageRepository } from './postgres.js'

// Status changes share statements (BatchedStatusWriter). What a user relies on:
// every accepted change is in the log exactly once with gap-free seqs, concurrent
// writers on other gateways neither deadlock nor lose changes, and one change that
// cannot be written does not take the others of its statement down with it.

const NOW = () => new Date()

async function packages(repo: PostgresPackageRepository, n: number, prefix: string): Promise<Package[]> {
  const out: Package[] = []
  for (let i = 0; i < n; i++) {
    const { pkg } = await repo.create(createPackage({ trackingNumber: `${prefix}${Date.now()}${i}`, carrier: 'test', sender: { name: 's' }, recipient: { name: 'r' } }, NOW()))
    out.push(pkg)
  }
  return out
}

const scan = (pkg: Package, note: string): Change => ({
  next: { ...pkg, status: 'in_transit' },
  events: [{ type: 'package.status_changed', occurredAt: NOW(), data: { status: 'in_transit', previousStatus: pkg.status, note } }],
})

t.test('concurrent status changes share statements and every one lands once, in seq order', async (t) => {
  const iso = await isolate(t)
  const repo = new PostgresPackageRepository(iso.pool)
  const pkgs = await packages(repo, 6, 'BATCH')
  const before = { ...repo.statusWriter.counters }
  // 60 changes at once, 10 per package: several per package race each other.
  const notes = Array.from({ length: 60 }, (_, i) => `scan ${i}`)
  const results = await Promise.all(notes.map((note, i) => repo.update(pkgs[i % 6]!.trackingNumber, (p) => scan(p, note), NOW())))

  const statements = repo.statusWriter.counters.statements - before.statements
  t.ok(statements < 60, `60 changes went out in ${statements} statements`)

  for (const [i, pkg] of pkgs.entries()) {
    const log = await repo.events(pkg.id)
    t.same(log.map((e) => e.seq), Array.from({ length: 11 }, (_, k) => k + 1), `package ${i}: seqs 1..11, none lost or repeated`)
    const expected = notes.filter((_, k) => k % 6 === i).sort()
    t.same(log.slice(1).map((e) => e.data.note).sort(), expected, `package ${i}: each of its changes exactly once`)
    t.equal((await repo.get(pkg.trackingNumber))!.version, 11)
  }
  // Each answer is the state its own change produced.
  for (const r of results) t.equal(r.events[0]!.seq, r.pkg.seq, 'the answer carries the seq of its own event')
})

t.test('two gateways whose statements share packages queue behind each other instead of deadlocking', async (t) => {
  const iso = await isolate(t)
  // Each gateway with a pool of its own, named so the test can see its sessions wait.
  const app = `batch-test-${process.pid}`
  const pools = ['a', 'b'].map((g) => createPool({ url: iso.urls.databaseUrl, schema: `${iso.schema},public`, applicationName: `${app}-${g}` }))
  t.teardown(() => Promise.all(pools.map((p) => p.end())))
  const a = new PostgresPackageRepository(pools[0]!)
  const b = new PostgresPackageRepository(pools[1]!)
  const pkgs = await packages(a, 8, 'TWOGW')
  // A table of realistic size, so the planner looks rows up in the order they were
  // given (on a handful of rows it scans the table, which locks in one order anyway).
  await iso.pool.query(`INSERT INTO packages (tracking_number, status, carrier, sender, recipient)
    SELECT 'FILL' || g, 'pending', 'test', '{"name":"s"}', '{"name":"r"}' FROM generate_series(1, 3000) g`)
  await iso.pool.query('ANALYZE packages')
  // Someone holds a package in the middle: a's statement (packages in one order) and
  // b's (the reverse order) each get as far as it and wait. Locking in arrival order,
  // each would by then hold packages the other needs.
  // Both know the packages (no read before their writes), so each sends its eight changes at once.
  for (const p of pkgs) await b.update(p.trackingNumber, (cur) => scan(cur, 'warm'), NOW())
  for (const p of pkgs) await a.update(p.trackingNumber, (cur) => scan(cur, 'warm'), NOW())
  const holder = await iso.pool.connect()
  t.teardown(() => holder.release())
  await holder.query('BEGIN')
  await holder.query('SELECT 1 FROM packages WHERE id = $1 FOR UPDATE', [pkgs[4]!.id])
  const jobs = [
    ...pkgs.map((p) => a.update(p.trackingNumber, (cur) => scan(cur, 'a'), NOW())),
    ...[...pkgs].reverse().map((p) => b.update(p.trackingNumber, (cur) => scan(cur, 'b'), NOW())),
  ]
  let blocked = 0
  for (let waited = 0; blocked < 2 && waited < 10_000; waited += 20) {
    await new Promise((r) => setTimeout(r, 20))
    const { rows } = await iso.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND cardinality(pg_blocking_pids(pid)) > 0`,
      [`${app}-%`],
    )
    blocked = rows[0]!.n
  }
  t.ok(blocked >= 2, `both gateways' statements are waiting for locks (${blocked} sessions)`)
  await holder.query('COMMIT')
  const settled = await Promise.allSettled(jobs)
  t.same(settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason)), [], 'every change landed')
  // A deadlock fails one of the statements (PostgreSQL picks a victim after a second);
  // its changes would then have been sent again one by one and landed all the same.
  t.equal(a.statusWriter.counters.failed + b.statusWriter.counters.failed, 0, 'no statement failed')
  for (const p of pkgs) {
    const notes = (await a.events(p.id)).map((e) => e.data.note ?? null)
    t.same(notes.slice(3).sort(), ['a', 'b'], `${p.trackingNumber}: both changes, once each`)
  }
})

t.test('a change that cannot be written fails alone; the others of its statement land', async (t) => {
  const iso = await isolate(t)
  const repo = new PostgresPackageRepository(iso.pool)
  const [good, bad] = await packages(repo, 2, 'ONEBAD')
  // A rule only this schema has, standing in for any row the database refuses.
  await iso.pool.query(`ALTER TABLE package_events ADD CONSTRAINT no_boom CHECK (data->>'note' IS DISTINCT FROM 'boom')`)
  const before = { ...repo.statusWriter.counters }
  const [ok, refused] = await Promise.allSettled([
    repo.update(good!.trackingNumber, (p) => scan(p, 'fine'), NOW()),
    repo.update(bad!.trackingNumber, (p) => scan(p, 'boom'), NOW()),
  ])
  t.equal(ok.status, 'fulfilled', 'the good change landed')
  t.equal(refused.status, 'rejected', 'the refused one failed')
  t.match(String((refused as PromiseRejectedResult).reason), /no_boom/, 'with the database error')
  const counted = repo.statusWriter.counters
  t.ok(counted.statements - before.statements >= 3, 'one shared statement, then each change on its own')
  t.equal(counted.changes - before.changes, 1, 'only the change that was written counts as carried')
  t.equal(counted.failed - before.failed, 2, 'the shared statement and the refused retry count as failed')

  t.same((await repo.events(good!.id)).map((e) => e.data.note ?? null), [null, 'fine'])
  const after = await repo.get(bad!.trackingNumber)
  t.equal(after!.version, 1, 'the refused package is unchanged')
  t.equal(after!.status, 'pending')
  t.same((await repo.events(bad!.id)).map((e) => e.seq), [1], 'and has no event from it')
})

t.test('in one statement, each fix moves its own package forward only', async (t) => {
  const iso = await isolate(t)
  const repo = new PostgresPackageRepository(iso.pool)
  const [early, late] = await packages(repo, 2, 'FIXES')
  const stored = new Date(Date.now() - 30_000)
  // Both packages have a fix recorded by location ingest (which does not bump the version).
  await iso.pool.query('UPDATE packages SET last_lat = 10, last_lng = 20, last_recorded_at = $1 WHERE id = ANY($2::uuid[])', [stored, [early!.id, late!.id]])
  const older = new Date(stored.getTime() - 60_000)
  const newer = new Date(stored.getTime() + 10_000)
  const before = repo.statusWriter.counters.statements
  const [a, b] = await Promise.all([
    repo.update(early!.trackingNumber, (p) => ({ next: { ...p, status: 'in_transit', lastLocation: { lat: 1, lng: 2, recordedAt: older } }, events: scan(p, 'late scan').events }), NOW()),
    repo.update(late!.trackingNumber, (p) => ({ next: { ...p, status: 'in_transit', lastLocation: { lat: 3, lng: 4, recordedAt: newer } }, events: scan(p, 'new scan').events }), NOW()),
  ])
  t.equal(repo.statusWriter.counters.statements - before, 1, 'both went out in one statement')
  t.same(a.pkg.lastLocation, { lat: 10, lng: 20, recordedAt: stored }, 'an older fix leaves the stored one')
  t.same(b.pkg.lastLocation, { lat: 3, lng: 4, recordedAt: newer }, 'a newer fix replaces it')
  t.equal(a.pkg.status, 'in_transit')
  t.equal(b.pkg.status, 'in_transit')
  t.same((await repo.get(early!.trackingNumber))!.lastLocation, a.pkg.lastLocation, 'as stored')
  t.same((await repo.get(late!.trackingNumber))!.lastLocation, b.pkg.lastLocation, 'as stored')
})
