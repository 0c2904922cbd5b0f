import t from 'tap'
import { isolateEmbedded } from '../platform/testing/embedded-db.js'
import { packageRepositoryContract } from './repository-contract.js'
import { postgresPackageFixture } from './testing/postgres-fixture.js'

// The embedded mode's packages: the PostgreSQL adapter, unchanged, on PGlite.
t.test('PostgreSQL package repository on PGlite', async (t) => {
  packageRepositoryContract(t, async (t) => postgresPackageFixture((await isolateEmbedded(t)).pool))
})
