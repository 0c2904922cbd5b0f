import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import { PostgresUserRepository } from '../../auth/postgres.js'
import { PostgresPackageRepository } from '../postgres.js'
import type { PackageRepositoryFixture } from '../repository-contract.js'
import { PostgresTrackingListRepository } from '../tracking-list-postgres.js'

/** The package repository contract's fixture for the PostgreSQL adapter, on any pool (server or PGlite). */
export function postgresPackageFixture(pool: pg.Pool): PackageRepositoryFixture {
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
}
