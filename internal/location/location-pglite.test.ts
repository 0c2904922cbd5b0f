import { randomBytes } from 'node:crypto'
import t from 'tap'
import { isolateEmbedded } from '../platform/testing/embedded-db.js'
import { locationRepositoryContract } from './contract.js'
import { PostgresLocationRepository } from './postgres.js'

// The embedded mode's location history: the PostgreSQL adapter, unchanged, on PGlite.
t.test('PostgreSQL location repository on PGlite', async (t) => {
  // One database for the file: opening one costs more than the whole suite.
  const { pool } = await isolateEmbedded(t)

  locationRepositoryContract(t, async () => ({
    repo: new PostgresLocationRepository(pool),
    async newPackage() {
      const trackingNumber = `PL${randomBytes(6).toString('hex').toUpperCase()}`
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO packages (tracking_number, status, carrier, sender, recipient) VALUES ($1, 'in_transit', 'test', '{"name":"s"}', '{"name":"r"}') RETURNING id`,
        [trackingNumber],
      )
      return { id: rows[0]!.id, trackingNumber }
    },
  }))

  t.test('the nearby query uses the GiST index', async (t) => {
    const client = await pool.connect()
    t.teardown(() => client.release())
    // SET LOCAL: PGlite's one session outlives this client.
    await client.query('BEGIN; SET LOCAL enable_seqscan = off')
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id FROM packages p WHERE p.last_lat IS NOT NULL AND p.deleted_at IS NULL
         AND public.earth_box(ll_to_earth_safe(1, 2), 1000) OPERATOR(public.@>) ll_to_earth_safe(p.last_lat, p.last_lng)`,
    )
    await client.query('ROLLBACK')
    t.match(rows.map((r) => r['QUERY PLAN']).join('\n'), /packages_last_location_gist/)
  })
})
