import t from 'tap'
import { AppError } from '../platform/errors.js'
import { ATTACH_GRACE_MS, checkAttachable, checkDeclaredSize, mismatch, objectKey, type ProofUpload } from './domain.js'

const upload: ProofUpload = {
  id: '11111111-1111-4111-8111-111111111111',
  packageId: 'p1',
  key: 'proofs/p1/x.png',
  contentType: 'image/png',
  sizeBytes: 100,
  createdBy: 'u1',
  expiresAt: new Date('2026-01-01T10:00:00Z'),
  used: false,
}
const codeOf = (fn: () => unknown) => {
  try {
    fn()
    return undefined
  } catch (err) {
    return (err as AppError).code
  }
}

t.test('an upload is attachable once, for its package, until the grace after its expiry', async (t) => {
  const before = new Date('2026-01-01T09:59:00Z')
  t.equal(checkAttachable(upload, 'p1', before), upload)
  t.equal(codeOf(() => checkAttachable(null, 'p1', before)), 'upload_not_found')
  t.equal(codeOf(() => checkAttachable(upload, 'p2', before)), 'upload_not_found')
  t.equal(codeOf(() => checkAttachable({ ...upload, used: true }, 'p1', before)), 'upload_used')
  const inGrace = new Date(upload.expiresAt.getTime() + ATTACH_GRACE_MS - 1)
  t.equal(checkAttachable(upload, 'p1', inGrace), upload, 'an upload begun in time may still be attached')
  t.equal(codeOf(() => checkAttachable(upload, 'p1', new Date(upload.expiresAt.getTime() + ATTACH_GRACE_MS))), 'upload_expired')
})

t.test('the stored object must be what was presigned', async (t) => {
  t.equal(mismatch(upload, { contentType: 'image/png', sizeBytes: 100 }), undefined)
  t.equal(mismatch(upload, { contentType: 'IMAGE/PNG; charset=binary', sizeBytes: 1 }), undefined, 'parameters and case aside')
  t.match(mismatch(upload, { contentType: 'image/jpeg', sizeBytes: 10 }), /image\/jpeg/)
  t.match(mismatch(upload, { contentType: undefined, sizeBytes: 10 }), /missing/)
  t.match(mismatch(upload, { contentType: 'image/png', sizeBytes: 101 }), /101 bytes/)
  t.match(mismatch(upload, { contentType: 'image/png', sizeBytes: 0 }), /0 bytes/)
})

t.test('declared sizes and keys', async (t) => {
  t.doesNotThrow(() => checkDeclaredSize(10, 10))
  t.equal(codeOf(() => checkDeclaredSize(11, 10)), 'validation_failed')
  t.equal(codeOf(() => checkDeclaredSize(0, 10)), 'validation_failed')
  t.equal(objectKey('p', 'u', 'image/webp'), 'proofs/p/u.webp')
  t.equal(objectKey('p', 'u', 'image/jpeg'), 'proofs/p/u.jpg')
})
