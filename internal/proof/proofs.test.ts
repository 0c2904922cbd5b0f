import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import t from 'tap'
import { testGateway, type TestGateway, type TestLike } from '../app/testing/gateway.js'
import { api, errorBody } from '../package/fixtures.test.js'
import { startS3, type TestS3 } from '../platform/testing/s3.js'
import { connect, isEvent, listen } from '../realtime/testing/ws-client.js'
import { png, postForm, proofApi, type Grant } from './fixtures.test.js'

// Proofs against s3rver and the real PostgreSQL, through the whole gateway.

const BUCKET = 'proofs-made-at-start'

async function setup(t: TestLike, env: Record<string, string> = {}) {
  const s3 = await startS3(t)
  const gw = await testGateway(t, { ...s3.env, PROOF_BUCKET: BUCKET, PROOF_MAX_BYTES: String(64 * 1024), ...env })
  const admin = await gw.user('admin')
  const driver = await gw.user('driver')
  const owner = await gw.user('customer')
  const pkgs = api(gw)
  const newPackage = () => pkgs.create(admin.token, { driverId: driver.id, customerId: owner.id })
  return { s3, gw, admin, driver, owner, pkgs, proofs: proofApi(gw), newPackage, objects: objectsOf(s3) }
}

/** A client of the test S3 server of our own, for the objects a misbehaving client might leave. */
function objectsOf(s3: TestS3) {
  const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } })
  return {
    put: (key: string, body: Buffer, type: string) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: type })),
    exists: async (key: string) => (await fetch(`${s3.endpoint}/${BUCKET}/${encodeURI(key)}`, { method: 'HEAD' })).status === 200,
    remove: (key: string) => client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key })),
    destroy: () => client.destroy(),
  }
}

const keyOf = (grant: Grant) => grant.fields.key!

t.test('proofs with the default rules', async (t) => {
  const shared = await setup(t)
  t.teardown(() => shared.objects.destroy())

  t.test('a driver uploads a PNG straight to storage, attaches it, and the owner reads it back', async (t) => {
    const { driver, owner, admin, newPackage, proofs, pkgs, gw } = shared
    const pkg = await newPackage()
    const ws = await connect(t, `${await listen(t, gw)}?token=${owner.token}`)
    ws.send({ op: 'subscribe', channel: `package:${pkg.trackingNumber}`, id: 'p' })
    await ws.next((m) => m.type === 'subscribed')
    const file = png(3, 3)
    const res = await proofs.requestUpload(driver.token, pkg.trackingNumber, { contentType: 'image/png', sizeBytes: file.length })
    t.equal(res.statusCode, 201, res.body)
    const grant = res.json<Grant>()
    t.equal(grant.maxBytes, file.length)
    t.match(grant.url, new RegExp(`/${BUCKET}$`), 'the form goes to the proofs bucket, created at start')

    const policy = JSON.parse(Buffer.from(grant.fields.Policy!, 'base64').toString('utf8')) as { expiration: string; conditions: unknown[] }
    t.equal(Date.parse(policy.expiration), Date.parse(grant.expiresAt), 'the policy expires when the answer says')
    const minutes = (Date.parse(policy.expiration) - Date.now()) / 60_000
    t.ok(minutes > 9 && minutes <= 10, 'about 10 minutes from now')
    t.match(keyOf(grant), new RegExp(`^proofs/${pkg.id}/${grant.uploadId}\\.png$`))
    t.ok(policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify({ key: keyOf(grant) })), 'the key is pinned')
    t.ok(policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify({ 'Content-Type': 'image/png' })), 'the content type is pinned')
    t.ok(policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify(['content-length-range', 1, file.length])), 'the size is 1 up to the declared size')
    t.ok(policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify({ bucket: BUCKET })), 'the bucket is pinned')

    const upload = await postForm(grant, file, 'image/png')
    t.ok(upload.status >= 200 && upload.status < 300, `the storage accepted the form (${upload.status})`)

    const attached = await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'photo', note: 'left at the door' })
    t.equal(attached.statusCode, 201, attached.body)
    const proof = attached.json<{ id: string; kind: string; contentType: string; sizeBytes: number; uploadedBy: string; note: string; url: string }>()
    t.match(proof, { kind: 'photo', contentType: 'image/png', sizeBytes: file.length, uploadedBy: driver.id, note: 'left at the door' })
    const live = await ws.next(isEvent(`package:${pkg.trackingNumber}`))
    t.match(live.event, { type: 'package.proof_added', seq: 3, data: { proofId: proof.id, kind: 'photo' } }, 'the owner hears of it live')

    for (const reader of [owner, driver, admin]) {
      const list = await proofs.list(reader.token, pkg.trackingNumber)
      t.equal(list.statusCode, 200)
      const items = list.json<{ items: Array<{ id: string; url: string }> }>().items
      t.same(items.map((i) => i.id), [proof.id])
      const got = await fetch(items[0]!.url)
      t.equal(got.status, 200, 'the presigned GET works')
      t.same(Buffer.from(await got.arrayBuffer()), file, 'and gives back the very file')
      t.match(new URL(items[0]!.url).searchParams.get('X-Amz-Expires'), '900', 'valid 15 minutes')
    }

    const events = await pkgs.events(admin.token, pkg.trackingNumber)
    const last = events.at(-1)!
    t.match(last, { type: 'package.proof_added', seq: events.length, data: { proofId: proof.id, kind: 'photo', contentType: 'image/png', uploadedBy: driver.id } }, 'package.proof_added is in the event log with the next seq')
    t.equal((await pkgs.get(admin.token, pkg.trackingNumber)).version, 2, 'the package moved on one version with its seq')
    // The package's own writes carry on after the proof's seq.
    await pkgs.status(admin.token, pkg.trackingNumber, 'in_transit')
    t.same((await pkgs.events(admin.token, pkg.trackingNumber)).map((e) => e.seq), [1, 2, 3, 4])

    const again = await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'photo' })
    t.match(again.json(), errorBody(400, 'upload_used'), 'an upload becomes one proof only')
  })

  t.test('refused uploads: other types, larger sizes, other people', async (t) => {
    const { driver, owner, newPackage, proofs, gw } = shared
    const pkg = await newPackage()
    const gif = await proofs.requestUpload(driver.token, pkg.trackingNumber, { contentType: 'image/gif', sizeBytes: 100 })
    t.match(gif.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/contentType' }] })
    const big = await proofs.requestUpload(driver.token, pkg.trackingNumber, { contentType: 'image/jpeg', sizeBytes: 64 * 1024 + 1 })
    t.match(big.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/sizeBytes', message: /at most 65536/ }] })
    t.equal((await proofs.requestUpload(owner.token, pkg.trackingNumber, { contentType: 'image/jpeg', sizeBytes: 100 })).statusCode, 403, 'customers may not upload')
    const other = await gw.user('driver')
    t.match((await proofs.requestUpload(other.token, pkg.trackingNumber, { contentType: 'image/jpeg', sizeBytes: 100 })).json(), errorBody(404, 'not_found'), 'another driver: no such package')
  })

  t.test('attaching before the file arrived, a wrong file, unknown and expired uploads', async (t) => {
    const { driver, admin, newPackage, proofs, pkgs, objects, gw: iso } = shared
    const pkg = await newPackage()
    const grant = (await proofs.requestUpload(driver.token, pkg.trackingNumber, { contentType: 'image/png', sizeBytes: 1000 })).json<Grant>()

    const missing = await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'signature' })
    t.match(missing.json(), errorBody(409, 'upload_missing'))
    const { rows } = await iso.pool.query('SELECT count(*)::int AS n FROM proofs WHERE package_id = $1', [pkg.id])
    t.equal(rows[0].n, 0, 'no proof row was written')
    t.equal((await pkgs.events(admin.token, pkg.trackingNumber)).length, 2, 'no event either (created, assigned)')

    // A client that ignores the policy (s3rver does not enforce it): the object is not what was presigned.
    await objects.put(keyOf(grant), png(), 'image/gif')
    const wrongType = await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'photo' })
    t.match(wrongType.json(), { ...errorBody(400, 'upload_mismatch'), message: /image\/gif/ })
    t.notOk(await objects.exists(keyOf(grant)), 'the mismatched object was deleted')
    await objects.put(keyOf(grant), Buffer.alloc(1001, 1), 'image/png')
    t.match((await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'photo' })).json(), { ...errorBody(400, 'upload_mismatch'), message: /1001 bytes/ })
    t.notOk(await objects.exists(keyOf(grant)), 'the oversized object was deleted')

    const unknown = await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: '00000000-0000-4000-8000-000000000000', kind: 'photo' })
    t.match(unknown.json(), errorBody(404, 'upload_not_found'))
    const elsewhere = await newPackage()
    t.match((await proofs.attach(driver.token, elsewhere.trackingNumber, { uploadId: grant.uploadId, kind: 'photo' })).json(), errorBody(404, 'upload_not_found'), 'an upload belongs to its package')

    await iso.pool.query(`UPDATE proof_uploads SET expires_at = now() - interval '11 minutes' WHERE id = $1`, [grant.uploadId])
    await objects.put(keyOf(grant), png(), 'image/png')
    t.match((await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'photo' })).json(), errorBody(400, 'upload_expired'))
  })

  t.test('storage down: 503, nothing written, and the upload still works once it is back', async (t) => {
    const { s3, driver, admin, newPackage, proofs, pkgs } = shared
    const pkg = await newPackage()
    const file = png()
    const grant = (await proofs.requestUpload(driver.token, pkg.trackingNumber, { contentType: 'image/png', sizeBytes: file.length })).json<Grant>()
    t.ok((await postForm(grant, file, 'image/png')).ok)
    await s3.stop()
    const down = await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'photo' })
    await s3.start()
    t.match(down.json(), errorBody(503, 'unavailable'))
    t.equal((await pkgs.events(admin.token, pkg.trackingNumber)).length, 2, 'no event (created, assigned)')
    t.equal((await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'photo' })).statusCode, 201)
  })

  t.test('a proof outlives the account that attached it', async (t) => {
    const { gw, admin, owner, proofs, pkgs } = shared
    const leaving = await gw.user('driver')
    const pkg = await pkgs.create(admin.token, { driverId: leaving.id, customerId: owner.id })
    const file = png()
    const grant = (await proofs.requestUpload(leaving.token, pkg.trackingNumber, { contentType: 'image/png', sizeBytes: file.length })).json<Grant>()
    t.ok((await postForm(grant, file, 'image/png')).ok)
    t.equal((await proofs.attach(leaving.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'signature' })).statusCode, 201)
    await gw.pool.query('DELETE FROM users WHERE id = $1', [leaving.id])
    const list = await proofs.list(owner.token, pkg.trackingNumber)
    t.equal(list.statusCode, 200, list.body)
    t.match(list.json(), { items: [{ kind: 'signature', uploadedBy: null }] })
  })

  t.test('who reads proofs: staff, the owner and the assigned driver; trackers and guests get 404', async (t) => {
    const { gw, driver, owner, admin, newPackage, proofs } = shared
    const pkg = await newPackage()
    const operator = await gw.user('operator')
    const tracker = await gw.user('customer')
    const add = await gw.app.inject({ method: 'POST', url: '/api/v1/me/trackings', headers: { authorization: `Bearer ${tracker.token}` }, payload: { trackingNumber: pkg.trackingNumber } })
    t.equal(add.statusCode, 201, 'the tracker follows the number')
    for (const [who, token] of [['admin', admin.token], ['operator', operator.token], ['owner', owner.token], ['driver', driver.token]] as const) {
      t.match((await proofs.list(token, pkg.trackingNumber)).json(), { items: [] }, `${who} reads`)
    }
    t.match((await proofs.list(tracker.token, pkg.trackingNumber)).json(), errorBody(404, 'not_found'), 'a tracker does not')
    t.match((await proofs.list(undefined, pkg.trackingNumber)).json(), errorBody(404, 'not_found'), 'a guest does not')
  })
})

t.test('PROOF_REQUIRED_FOR_DELIVERED: a driver delivers only with a proof; admins are not held to it', async (t) => {
  const { driver, admin, newPackage, proofs, pkgs } = await setup(t, { PROOF_REQUIRED_FOR_DELIVERED: 'true' })
  const onTheWay = async () => {
    const pkg = await newPackage()
    await pkgs.status(admin.token, pkg.trackingNumber, 'in_transit')
    return pkgs.status(admin.token, pkg.trackingNumber, 'out_for_delivery')
  }
  const pkg = await onTheWay()
  const refused = await pkgs.call('POST', `/packages/${pkg.trackingNumber}/status`, { token: driver.token, payload: { status: 'delivered' } })
  t.match(refused.json(), errorBody(409, 'proof_required'))
  t.equal((await pkgs.get(admin.token, pkg.trackingNumber)).status, 'out_for_delivery', 'still on the way')
  t.equal((await pkgs.status(driver.token, pkg.trackingNumber, 'failed_attempt')).status, 'failed_attempt', 'other statuses need no proof')
  await pkgs.status(driver.token, pkg.trackingNumber, 'out_for_delivery')

  const file = png()
  const grant = (await proofs.requestUpload(driver.token, pkg.trackingNumber, { contentType: 'image/png', sizeBytes: file.length })).json<Grant>()
  t.ok((await postForm(grant, file, 'image/png')).ok)
  t.equal((await proofs.attach(driver.token, pkg.trackingNumber, { uploadId: grant.uploadId, kind: 'signature' })).statusCode, 201)
  t.equal((await pkgs.status(driver.token, pkg.trackingNumber, 'delivered')).status, 'delivered', 'with a proof the driver delivers')

  const byAdmin = await onTheWay()
  t.equal((await pkgs.status(admin.token, byAdmin.trackingNumber, 'delivered')).status, 'delivered', 'an admin delivers without one')
})

t.test('without S3 configured, proofs answer 503 and say why', async (t) => {
  const gw: TestGateway = await testGateway(t)
  const admin = await gw.user('admin')
  const pkg = await api(gw).create(admin.token)
  const res = await proofApi(gw).requestUpload(admin.token, pkg.trackingNumber, { contentType: 'image/png', sizeBytes: 10 })
  t.match(res.json(), { ...errorBody(503, 'unavailable'), message: /S3 is not configured/ })
})
