import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import { packageRepositoryContract } from './repository-contract.js'
import { postgresPackageFixture } from './testing/postgres-fixture.js'

t.test('PostgreSQL package repository', async (t) => {
  packageRepositoryContract(t, async (t) => postgresPackageFixture((await isolate(t)).pool))
})
