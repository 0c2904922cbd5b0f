import t from 'tap'
import { startS3 } from '../platform/testing/s3.js'
import { testGateway } from './testing/gateway.js'

// Drivers' browsers POST proofs straight to the bucket, and an upload that reports
// progress is preceded by a CORS preflight, which the bucket must answer.

const preflight = (endpoint: string, bucket: string) =>
  fetch(`${endpoint}/${bucket}`, { method: 'OPTIONS', headers: { origin: 'http://console.example', 'access-control-request-method': 'POST' } })

t.test('a proofs bucket the gateway creates answers browsers\' upload preflights', async (t) => {
  const s3 = await startS3(t)
  await testGateway(t, { ...s3.env, PROOF_BUCKET: 'proofs-cors-created' })
  const res = await preflight(s3.endpoint, 'proofs-cors-created')
  t.equal(res.status, 200, 'the preflight is allowed')
  t.ok(res.headers.get('access-control-allow-origin'), 'with an allowed origin')
  t.match(res.headers.get('access-control-allow-methods'), /POST/)
})

t.test('an existing bucket keeps the operator\'s CORS configuration', async (t) => {
  const s3 = await startS3(t, 'proofs-cors-existing')
  await testGateway(t, { ...s3.env, PROOF_BUCKET: 'proofs-cors-existing' })
  const res = await preflight(s3.endpoint, 'proofs-cors-existing')
  t.equal(res.status, 403, 'no rule was added: the operator sets it (docs/security.md)')
})
