import { randomBytes, randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type pg from 'pg'
import { PostgresUserRepository } from '../auth/postgres.js'
import { createPackage } from '../package/entity.js'
import { PostgresPackageRepository } from '../package/postgres.js'
import { AppError } from '../platform/errors.js'
import { isolateEmbedded } from '../platform/testing/embedded-db.js'
import { isolate } from '../platform/testing/harness.js'
import { objectKey, type Proof, type ProofUpload } from './domain.js'
import { PostgresProofRepository } from './postgres.js'

// The proof repository on the PostgreSQL server and on PGlite (the embedded mode
// with S3_ENDPOINT set): one suite, both pools.

function suite(t: Test, poolOf: (t: Test) => Promise<pg.Pool>) {
  t.test('uploads become proofs once, each with the package\'s next event', async (t) => {
    const pool = await poolOf(t)
    const packages = new PostgresPackageRepository(pool)
    const proofs = new PostgresProofRepository(pool, { origin: 'test' })
    const driver = (await new PostgresUserRepository(pool).create({ email: `d-${randomBytes(4).toString('hex')}@example.com`, name: 'D', role: 'driver', passwordHash: null })).id
    const { pkg } = await packages.create(createPackage({ trackingNumber: `PR${randomBytes(5).toString('hex').toUpperCase()}`, carrier: 'test', sender: { name: 'S' }, recipient: { name: 'R' }, driverId: driver }, new Date()))

    const newUpload = async (): Promise<ProofUpload> => {
      const id = randomUUID()
      const u: ProofUpload = { id, packageId: pkg.id, key: objectKey(pkg.id, id, 'image/png'), contentType: 'image/png', sizeBytes: 500, createdBy: driver, expiresAt: new Date(Date.now() + 600_000), used: false }
      await proofs.createUpload(u)
      return u
    }
    const driverActor = { type: 'user' as const, id: driver, role: 'driver', name: 'Dana' }
    const proofOf = (u: ProofUpload): Proof => ({ id: randomUUID(), packageId: pkg.id, uploadId: u.id, kind: 'photo', contentType: 'image/png', sizeBytes: 400, key: u.key, uploadedBy: driver, uploadedAt: new Date() })

    const first = await newUpload()
    t.match(await proofs.upload(first.id), { ...first, expiresAt: first.expiresAt })
    t.equal(await proofs.upload('not-a-uuid'), null)
    t.notOk(await proofs.hasProof(pkg.id))

    const proof = proofOf(first)
    const event = await proofs.attach(proof, pkg.trackingNumber, new Date(), driverActor)
    t.match(event, { type: 'package.proof_added', seq: 2, trackingNumber: pkg.trackingNumber, data: { proofId: proof.id }, actor: driverActor })
    t.ok(await proofs.hasProof(pkg.id))
    t.equal((await proofs.upload(first.id))?.used, true)
    t.match(await proofs.list(pkg.id), [{ id: proof.id, sizeBytes: 400, kind: 'photo' }])
    t.match(await packages.get(pkg.trackingNumber), { version: 2, seq: 2 })

    const err = await proofs.attach(proofOf(first), pkg.trackingNumber, new Date(), driverActor).catch((e: unknown) => e)
    t.ok(err instanceof AppError && err.code === 'upload_used', 'an upload is attached once')
    t.equal((await proofs.list(pkg.id)).length, 1, 'and nothing else was written')

    // Two at once get consecutive seqs; the package's own writes go on after them.
    const [a, b] = await Promise.all([newUpload(), newUpload()])
    const seqs = (await Promise.all([a, b].map((u) => proofs.attach(proofOf(u), pkg.trackingNumber, new Date(), driverActor)))).map((e) => e.seq).sort()
    t.same(seqs, [3, 4])
    const moved = await packages.update(pkg.trackingNumber, (p) => ({ next: { ...p, status: 'in_transit' }, events: [{ type: 'package.status_changed', occurredAt: new Date(), data: { status: 'in_transit' } }] }), new Date())
    t.same(moved.events.map((e) => e.seq), [5])
    t.same((await packages.events(pkg.id)).map((e) => [e.seq, e.type]), [[1, 'package.created'], [2, 'package.proof_added'], [3, 'package.proof_added'], [4, 'package.proof_added'], [5, 'package.status_changed']])
  })
}

t.test('on PostgreSQL', async (t) => suite(t, async (t) => (await isolate(t)).pool))
t.test('on PGlite', async (t) => suite(t, async (t) => (await isolateEmbedded(t)).pool))
