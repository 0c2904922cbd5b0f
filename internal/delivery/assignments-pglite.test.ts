import { randomBytes } from 'node:crypto'
import t from 'tap'
import type { Principal } from '../auth/domain.js'
import { PostgresUserRepository } from '../auth/postgres.js'
import { changeStatus, createPackage } from '../package/entity.js'
import { PostgresPackageRepository } from '../package/postgres.js'
import { isolateEmbedded } from '../platform/testing/embedded-db.js'
import { PostgresAssignmentRepository } from './postgres.js'
import { AssignmentService } from './service.js'

// The embedded mode: migration 0011's partial unique index and its trigger on PGlite.
t.test('assignments on PGlite', async (t) => {
  const { pool } = await isolateEmbedded(t)
  const users = new PostgresUserRepository(pool)
  const packages = new PostgresPackageRepository(pool)
  const newUser = async (role: 'admin' | 'driver') => (await users.create({ email: `${role}-${randomBytes(5).toString('hex')}@example.com`, name: role, role, passwordHash: null })).id
  const admin: Principal = { id: await newUser('admin'), role: 'admin', kind: 'user' }
  const driver: Principal = { id: await newUser('driver'), role: 'driver', kind: 'user' }
  const other = await newUser('driver')
  const svc = new AssignmentService({ assignments: new PostgresAssignmentRepository(pool), committed: () => undefined, ingest: async () => ({ accepted: 0, duplicates: 0 }) })

  const { pkg } = await packages.create(createPackage({ trackingNumber: 'PGLITEASSIGN1', carrier: 'delivertrack', sender: { name: 's' }, recipient: { name: 'r' } }, new Date()))
  const offer = await svc.assign(admin, pkg.trackingNumber, { driverId: driver.id })
  await t.rejects(svc.assign(admin, pkg.trackingNumber, { driverId: other }), { code: 'already_assigned' }, 'one active assignment')
  t.equal((await packages.get(pkg.trackingNumber))?.driverId, driver.id)
  t.equal((await svc.respond(driver, pkg.trackingNumber, 'accept')).state, 'accepted')

  for (const status of ['in_transit', 'out_for_delivery', 'delivered'] as const) await packages.update(pkg.trackingNumber, (p) => changeStatus(p, { status }, new Date()), new Date())
  t.match(await svc.history(pkg.trackingNumber), [{ id: offer.id, state: 'completed', completedAt: Date }], 'delivered completes it')
})
