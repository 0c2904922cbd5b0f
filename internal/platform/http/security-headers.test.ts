import t from 'tap'
import { bearer, testGateway } from '../../app/testing/gateway.js'
import { proofStorageOrigins } from '../../app/proofs.js'
import { loadConfig } from '../../config/config.js'

// Hardening headers: helmet with the console's CSP, CORS only for CORS_ORIGINS, and
// no-store on every answer that carries a credential.

const APP = 'https://app.example.com'
const OTHER = 'https://elsewhere.example'
const accessControl = (headers: Record<string, unknown>) => Object.keys(headers).filter((h) => h.startsWith('access-control-'))

t.test('security headers and the Content-Security-Policy', async (t) => {
  const gw = await testGateway(t)
  for (const url of ['/', '/track/DT0000000000A', '/api/v1/health']) {
    const res = await gw.app.inject({ url })
    const csp = String(res.headers['content-security-policy'])
    t.match(csp, /default-src 'self'/, `${url}: a CSP`)
    t.match(csp, /script-src 'self'(;|$)/, `${url}: scripts only from the gateway`)
    t.match(csp, /frame-ancestors 'none'/, `${url}: never framed`)
    t.notMatch(csp, /unsafe-inline|unsafe-eval|upgrade-insecure-requests/, `${url}: nothing inline, plain HTTP still works`)
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['x-frame-options'], 'DENY')
    t.equal(res.headers['referrer-policy'], 'no-referrer')
  }
  const docs = await gw.app.inject({ url: '/docs/' })
  t.equal(docs.statusCode, 200)
  const csp = String(docs.headers['content-security-policy'])
  t.match(csp, /script-src 'self'(;|$)/, 'Swagger UI: scripts still only from the gateway')
  t.match(csp, /style-src 'self' 'unsafe-inline'/, 'Swagger UI: its own inline style')
  t.notMatch(csp, /upgrade-insecure-requests|validator\.swagger\.io/)
})

t.test('the proofs bucket is allowed for images and uploads, derived from S3_ENDPOINT', async (t) => {
  const none = String((await (await testGateway(t)).app.inject({ url: '/' })).headers['content-security-policy'])
  t.match(none, /img-src 'self' data:;/, 'without S3 the console loads images from itself only')
  t.match(none, /connect-src 'self';/)
  const gw = await testGateway(t, { S3_ENDPOINT: 'http://127.0.0.1:9/', S3_FORCE_PATH_STYLE: 'true' })
  const csp = String((await gw.app.inject({ url: '/packages/DT0000000000A' })).headers['content-security-policy'])
  t.match(csp, /img-src 'self' data: http:\/\/127\.0\.0\.1:9;/, 'proof photos (presigned GETs) may load')
  t.match(csp, /connect-src 'self' http:\/\/127\.0\.0\.1:9;/, 'a driver may POST a proof to the bucket')
  const hosted = proofStorageOrigins(loadConfig({ NODE_ENV: 'test', S3_ENDPOINT: 'https://minio.example:9000', PROOF_BUCKET: 'pods' }), 'services')
  t.same(hosted, ['https://pods.minio.example:9000'], 'virtual-hosted style: the bucket is a subdomain')
  const aws = proofStorageOrigins(loadConfig({ NODE_ENV: 'test', AWS_REGION: 'eu-west-1', PROOF_BUCKET: 'pods' }), 'services')
  t.same(aws, ['https://pods.s3.eu-west-1.amazonaws.com', 'https://pods.s3.amazonaws.com'], 'AWS S3 in the configured region')
})

t.test('CORS: only the origins of CORS_ORIGINS', async (t) => {
  const gw = await testGateway(t, { CORS_ORIGINS: `${APP}, http://localhost:5173` })
  const preflight = (origin: string) =>
    gw.app.inject({ method: 'OPTIONS', url: '/api/v1/auth/me', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
  const admin = await gw.user('admin')

  const allowed = await preflight(APP)
  t.equal(allowed.statusCode, 204, 'an allowed origin\'s preflight is answered')
  t.equal(allowed.headers['access-control-allow-origin'], APP)
  t.match(allowed.headers['access-control-allow-methods'], /PATCH/)
  t.match(allowed.headers['access-control-allow-headers'], /authorization/)
  t.notOk(allowed.headers['access-control-allow-credentials'], 'bearer tokens, not cookies')
  const get = await gw.app.inject({ url: '/api/v1/auth/me', headers: { origin: APP, ...bearer(admin.token) } })
  t.equal(get.statusCode, 200)
  t.equal(get.headers['access-control-allow-origin'], APP, 'and its request')
  t.match(get.headers['access-control-expose-headers'], /x-request-id/, 'the page may read the request id')
  t.match(get.headers.vary, /Origin/, 'caches keep answers per origin')

  const refused = await preflight(OTHER)
  t.same(accessControl(refused.headers), [], 'another origin\'s preflight gets no CORS header')
  t.equal(refused.statusCode, 404)
  t.match(refused.json(), { code: 'not_found' })
  const other = await gw.app.inject({ url: '/api/v1/auth/me', headers: { origin: OTHER, ...bearer(admin.token) } })
  t.same(accessControl(other.headers), [], 'nor its request')
  t.same(accessControl((await gw.app.inject({ url: '/api/v1/health' })).headers), [], 'no Origin, no CORS header')
})

t.test('CORS: none without CORS_ORIGINS (same origin only)', async (t) => {
  const gw = await testGateway(t)
  const res = await gw.app.inject({ method: 'OPTIONS', url: '/api/v1/auth/me', headers: { origin: APP, 'access-control-request-method': 'GET' } })
  t.same(accessControl(res.headers), [])
  t.same(accessControl((await gw.app.inject({ url: '/api/v1/health', headers: { origin: APP } })).headers), [])
})

interface Doc {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>
}

function namesCredential(schema: unknown): boolean {
  if (!schema || typeof schema !== 'object') return false
  return Object.entries(schema).some(([key, value]) =>
    key === 'properties' && value && typeof value === 'object'
      ? Object.keys(value).some((name) => /(token|secret|api_?key)$/i.test(name)) || Object.values(value).some(namesCredential)
      : namesCredential(value))
}

t.test('cache-control: no-store on every answer that carries a token or secret', async (t) => {
  const gw = await testGateway(t, { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' })
  const admin = await gw.user('admin')

  // Which operations answer with a credential, read from the OpenAPI document.
  const doc = (await gw.app.inject({ url: '/docs/json' })).json() as Doc
  const bearing = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, op]) => Object.entries(op.responses ?? {}).some(([status, r]) => status.startsWith('2') && namesCredential(r.content)))
      .map(([method]) => `${method.toUpperCase()} ${path}`))
  const post = (url: string, payload: object, headers: Record<string, string> = {}) => gw.app.inject({ method: 'POST', url: `/api/v1${url}`, payload, headers })
  const password = 'an-unusual-passphrase-for-tests'
  const email = `no-store-${Date.now()}@example.com`
  const registered = await post('/auth/register', { email, password, name: 'Nora Store' })
  const { clientId, clientSecret } = (await post('/service-clients', { name: 'no-store' }, bearer(admin.token))).json() as { clientId: string; clientSecret: string }
  const answers: Record<string, () => Promise<{ statusCode: number; headers: Record<string, unknown> }>> = {
    'POST /api/v1/auth/register': async () => registered,
    'POST /api/v1/auth/login': () => post('/auth/login', { email, password }),
    'POST /api/v1/auth/refresh': () => post('/auth/refresh', { refreshToken: (registered.json() as { refreshToken: string }).refreshToken }),
    'POST /api/v1/auth/token': () => post('/auth/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
    'POST /api/v1/service-clients': () => post('/service-clients', { name: 'another' }, bearer(admin.token)),
    'POST /api/v1/devices': () => post('/devices', { name: 'tracker' }, bearer(admin.token)),
    'POST /api/v1/webhooks': () => post('/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'] }, bearer(admin.token)),
  }
  t.same(bearing.sort(), Object.keys(answers).sort(), 'the operations whose answers carry a credential')
  for (const [operation, answer] of Object.entries(answers)) {
    const res = await answer()
    t.ok(res.statusCode >= 200 && res.statusCode < 300, `${operation} succeeded`)
    t.equal(res.headers['cache-control'], 'no-store', `${operation}: no-store`)
  }
  const me = await gw.app.inject({ url: '/api/v1/auth/me', headers: bearer(admin.token) })
  t.not(me.headers['cache-control'], 'no-store', 'other answers keep their caching')
})
