import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import type { Package } from './domain.js'
import { createPackage, deletePackage, type Change } from './entity.js'
import { PostgresPackageRepository } from './postgres.js'

// The repository's update races: it reads without a lock, decides, and writes only
// if nobody changed the package meanwhile. These tests make the race happen on
// purpose, from inside the decision, where an interleaving HTTP request would land.

const NOW = () => new Date()

async function setup(t: Parameters<typeof isolate>[0]) {
  const iso = await isolate(t)
  const repo = new PostgresPackageRepository(iso.pool)
  const created = await repo.create(createPackage({ trackingNumber: `RACE${Date.now()}${Math.floor(Math.random() * 1e4)}`, carrier: 'test', sender: { name: 's' }, recipient: { name: 'r' } }, NOW()))
  return { iso, repo, pkg: created.pkg }
}

const checkpoint = (pkg: Package, note: string): Change => ({
  next: { ...pkg, status: 'in_transit' },
  events: [{ type: 'package.status_changed', occurredAt: NOW(), data: { status: 'in_transit', previousStatus: pkg.status, note } }],
})

t.test('a write that lost the race decides again on the newer state', async (t) => {
  const { repo, pkg } = await setup(t)
  const seen: number[] = []
  const result = await repo.update(pkg.trackingNumber, async (current) => {
    seen.push(current.version)
    // Another writer commits between our read and our write, once.
    if (seen.length === 1) await repo.update(pkg.trackingNumber, (p) => checkpoint(p, 'other writer'), NOW())
    return checkpoint(current, 'ours')
  }, NOW())
  t.same(seen, [1, 2], 'decided on version 1, lost, decided again on version 2')
  t.equal(result.pkg.version, 3)
  t.equal(result.pkg.seq, 3)
  t.same(result.events.map((e) => e.seq), [3])
  const log = await repo.events(pkg.id)
  t.same(log.map((e) => [e.seq, e.data.note ?? null]), [[1, null], [2, 'other writer'], [3, 'ours']], 'no seq lost or reused')
})

t.test('a writer that keeps losing falls back to locking the row and still lands', async (t) => {
  const { repo, pkg } = await setup(t)
  let calls = 0
  const result = await repo.update(pkg.trackingNumber, async (current) => {
    calls++
    // Lose every optimistic attempt; the locked attempt cannot be overtaken.
    if (calls <= 3) await repo.update(pkg.trackingNumber, (p) => checkpoint(p, `rival ${calls}`), NOW())
    return checkpoint(current, 'ours')
  }, NOW())
  t.equal(calls, 4, 'three optimistic attempts, then one under the lock')
  t.equal(result.pkg.version, 5)
  const log = await repo.events(pkg.id)
  t.same(log.map((e) => e.seq), [1, 2, 3, 4, 5])
  t.equal(log.at(-1)!.data.note, 'ours')
})

t.test('a decision that throws writes nothing', async (t) => {
  const { repo, pkg } = await setup(t)
  await t.rejects(repo.update(pkg.trackingNumber, () => { throw new Error('refused') }, NOW()), /refused/)
  const after = await repo.get(pkg.trackingNumber)
  t.equal(after!.version, 1)
  t.same((await repo.events(pkg.id)).map((e) => e.seq), [1])
})

t.test('a status change never moves the last location back behind a fix recorded meanwhile', async (t) => {
  const { iso, repo, pkg } = await setup(t)
  const older = new Date(Date.now() - 60_000)
  const newer = new Date()
  await repo.update(pkg.trackingNumber, async (current) => {
    // Location ingest moves the package forward without bumping its version.
    await iso.pool.query('UPDATE packages SET last_lat = 10, last_lng = 20, last_recorded_at = $2 WHERE id = $1', [current.id, newer])
    return { next: { ...current, status: 'in_transit', lastLocation: { lat: 1, lng: 2, recordedAt: older } }, events: checkpoint(current, 'late scan').events }
  }, NOW())
  const after = await repo.get(pkg.trackingNumber)
  t.equal(after!.status, 'in_transit', 'the status change landed')
  t.same(after!.lastLocation, { lat: 10, lng: 20, recordedAt: newer }, 'the newer fix stays')

  const newest = new Date(Date.now() + 1_000)
  await repo.update(pkg.trackingNumber, (current) => ({ next: { ...current, lastLocation: { lat: 3, lng: 4, recordedAt: newest } }, events: checkpoint(current, 'scan').events }), NOW())
  t.same((await repo.get(pkg.trackingNumber))!.lastLocation, { lat: 3, lng: 4, recordedAt: newest }, 'a newer one moves it')
})

t.test('a package deleted between read and write is not found', async (t) => {
  const { repo, pkg } = await setup(t)
  let calls = 0
  await t.rejects(
    repo.update(pkg.trackingNumber, async (current) => {
      if (++calls === 1) await repo.update(pkg.trackingNumber, (p) => deletePackage(p, NOW()), NOW())
      return checkpoint(current, 'too late')
    }, NOW()),
    { code: 'not_found' },
  )
  t.equal(calls, 1)
})

t.test('another process changed the package: a decision on the remembered state is not trusted', async (t) => {
  const { iso, repo, pkg } = await setup(t) // repo remembers the package as created (pending)
  const other = new PostgresPackageRepository(iso.pool) // another gateway on the same database
  await other.update(pkg.trackingNumber, (p) => checkpoint(p, 'elsewhere'), NOW())

  // Refuses anything but in_transit: on the remembered (pending) state it would refuse.
  const seen: string[] = []
  const result = await repo.update(pkg.trackingNumber, (current) => {
    seen.push(current.status)
    if (current.status !== 'in_transit') throw new Error(`refused on ${current.status}`)
    return checkpoint(current, 'here')
  }, NOW())
  t.same(seen, ['pending', 'in_transit'], 'the refusal on the remembered state led to a fresh read')
  t.equal(result.pkg.version, 3)

  // A decision to change nothing answers with the current state, not the remembered one.
  await other.update(pkg.trackingNumber, (p) => checkpoint(p, 'elsewhere again'), NOW())
  const unchanged = await repo.update(pkg.trackingNumber, (p) => ({ next: p, events: [] }), NOW())
  t.equal(unchanged.pkg.version, 4, 'the version another process wrote')
  t.same(unchanged.events, [])
})

t.test('a column added by a later migration does not break the prepared statements of open connections', async (t) => {
  const { iso, repo, pkg } = await setup(t)
  // Prepare every named statement on the pool's connections first.
  await repo.update(pkg.trackingNumber, (p) => checkpoint(p, 'before'), NOW())
  await repo.get(pkg.trackingNumber)
  await repo.events(pkg.id)
  await iso.pool.query('ALTER TABLE packages ADD COLUMN later_column int')
  await iso.pool.query('ALTER TABLE package_events ADD COLUMN later_column int')
  const fresh = new PostgresPackageRepository(iso.pool) // nothing remembered: reads first
  const after = await fresh.update(pkg.trackingNumber, (p) => checkpoint(p, 'after'), NOW())
  t.equal(after.pkg.version, 3)
  t.equal((await repo.get(pkg.trackingNumber))!.version, 3)
  t.same((await repo.events(pkg.id)).map((e) => e.seq), [1, 2, 3])
})
