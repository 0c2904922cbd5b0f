import { randomBytes } from 'node:crypto'
import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import { locationRepositoryContract } from './contract.js'
import { PostgresLocationRepository } from './postgres.js'

t.test('PostgreSQL location repository', async (t) => {
  locationRepositoryContract(t, async (t) => {
    const iso = await isolate(t)
    return {
      repo: new PostgresLocationRepository(iso.pool),
      async newPackage() {
        const trackingNumber = `PG${randomBytes(6).toString('hex').toUpperCase()}`
        const { rows } = await iso.pool.query<{ id: string }>(
          `INSERT INTO packages (tracking_number, status, carrier, sender, recipient) VALUES ($1, 'in_transit', 'test', '{"name":"s"}', '{"name":"r"}') RETURNING id`,
          [trackingNumber],
        )
        return { id: rows[0]!.id, trackingNumber }
      },
    }
  })

  t.test('the nearby query uses the GiST index', async (t) => {
    const iso = await isolate(t)
    const client = await iso.pool.connect()
    t.teardown(() => client.release())
    await client.query('SET enable_seqscan = off')
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id FROM packages p WHERE p.last_lat IS NOT NULL AND p.deleted_at IS NULL
         AND public.earth_box(ll_to_earth_safe(1, 2), 1000) OPERATOR(public.@>) ll_to_earth_safe(p.last_lat, p.last_lng)`,
    )
    t.match(rows.map((r) => r['QUERY PLAN']).join('\n'), /packages_last_location_gist/)
  })
})
