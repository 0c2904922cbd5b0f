import t from 'tap'
import { dueToSend, proofErrorText, proofFileProblem, statusErrorText, storageErrorText, toPoint } from './driver-rules.js'

t.test('a proof photo must be a JPEG, PNG or WebP of at most the allowed size', async (t) => {
  t.equal(proofFileProblem({ type: 'image/png', size: 1200 }), undefined)
  t.match(proofFileProblem({ type: 'application/pdf', size: 1200 }), /not a photo.*application\/pdf/)
  t.match(proofFileProblem({ type: 'image/heic', size: 1200 }), /JPEG, PNG or WebP/)
  t.match(proofFileProblem({ type: 'image/jpeg', size: 12 * 1024 * 1024 }), /too large \(12 MB\): at most 10 MB/)
  t.match(proofFileProblem({ type: 'image/jpeg', size: 0 }), /empty/)
})

t.test('refusals are explained in words a driver can act on', async (t) => {
  t.match(proofErrorText({ status: 503, code: 'unavailable', message: 'S3 is not configured' }), /storage is not set up/)
  t.match(proofErrorText({ status: 409, code: 'upload_missing', message: 'x' }), /did not reach the storage/)
  t.match(proofErrorText({ status: 400, code: 'validation_failed', message: 'm', details: [{ path: '/sizeBytes', message: 'must be <= 10485760' }] }), /too large/)
  t.match(statusErrorText({ status: 409, code: 'proof_required', message: 'x' }), /proof photo is needed before/)
  t.match(storageErrorText(400, '<Error><Code>EntityTooLarge</Code></Error>'), /larger than the upload allows/)
  t.match(storageErrorText(0, ''), /Could not reach the photo storage/)
})

t.test('fixes become API points, figures outside the API bounds left out', async (t) => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5)
  t.same(toPoint({ timestamp: at, coords: { latitude: 48.1, longitude: 11.5, accuracy: 12, speed: null, heading: Number.NaN } }), { lat: 48.1, lng: 11.5, recordedAt: '2026-01-02T03:04:05.000Z', accuracyM: 12 })
  t.same(toPoint({ timestamp: at, coords: { latitude: 1, longitude: 2, speed: 3, heading: 90 } }), { lat: 1, lng: 2, recordedAt: '2026-01-02T03:04:05.000Z', speedMps: 3, headingDeg: 90 })
})

t.test('fixes are sent at most every few seconds, and never twice', async (t) => {
  const fix = (timestamp: number) => ({ timestamp, coords: { latitude: 1, longitude: 2 } })
  t.ok(dueToSend(fix(1000), undefined, 1000), 'the first fix goes at once')
  t.notOk(dueToSend(fix(2000), { at: 1000, fixTime: 1000 }, 2000), 'a newer one waits out the interval')
  t.ok(dueToSend(fix(6000), { at: 1000, fixTime: 1000 }, 6000), 'then goes')
  t.notOk(dueToSend(fix(1000), { at: 1000, fixTime: 1000 }, 9000), 'the same fix is not sent again')
})
