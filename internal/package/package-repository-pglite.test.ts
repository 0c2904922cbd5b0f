import { randomBytes } from 'node:crypto'
import t from 'tap'
import { PostgresUserRepository } from '../auth/postgres.js'
import { isolateEmbedded } from '../platform/testing/embedded-db.js'
import { PostgresPackageRepository } from './postgres.js'
import { packageRepositoryContract } from './repository-contract.js'
import { PostgresTrackingListRepository } from './tracking-list-postgres.js'

// The embedded mode's packages: the PostgreSQL adapter, unchanged, on PGlite.
t.test('PostgreSQL package repository on PGlite', async (t) => {
  packageRepositoryContract(t, async (t) => {
    const { pool } = await isolateEmbedded(t)
    const users = new PostgresUserRepository(pool)
    const trackings = new PostgresTrackingListRepository(pool)
    return {
      repo: new PostgresPackageRepository(pool),
      second: new PostgresPackageRepository(pool),
      async newUser(role) {
        return (await users.create({ email: `${role}-${randomBytes(5).toString('hex')}@example.com`, name: role, role, passwordHash: null })).id
      },
      async track(userId, packageId) {
        await trackings.add(userId, packageId, null)
      },
    }
  })
})
