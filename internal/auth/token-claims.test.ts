import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto'
import t from 'tap'
import { createSigner } from 'fast-jwt'
import { bearer, testGateway } from '../app/testing/gateway.js'
import { ExternalTokenVerifier } from './external.js'

// Hand-signed tokens with the gateway's own secret: a valid signature, a claim set that must still be refused.
const gw = await testGateway(t)
const me = (token: string) => gw.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) })
const inFiveMinutes = () => Math.floor(Date.now() / 1000) + 300

t.test('our own tokens need exp and our iss', async (t) => {
  const customer = await gw.user('customer')
  const claims = { sub: customer.id, role: 'customer', kind: 'user', email: customer.email }
  const sign = (extra: Record<string, unknown>) => createSigner({ key: gw.config.JWT_SECRET!, algorithm: 'HS256' })({ ...claims, ...extra })
  t.equal((await me(sign({ iss: 'delivertrack', exp: inFiveMinutes() }))).statusCode, 200, 'exp and our iss: accepted (control)')

  const noExp = await me(sign({ iss: 'delivertrack' }))
  t.equal(noExp.statusCode, 401, 'no exp: it would never expire')
  t.match(noExp.json(), { statusCode: 401, code: 'unauthorized', message: /expiry \(exp\)/ })

  const noIss = await me(sign({ exp: inFiveMinutes() }))
  t.equal(noIss.statusCode, 401, 'no iss')
  t.match(noIss.json(), { code: 'unauthorized', message: /issuer \(iss\)/ })

  const wrongIss = await me(sign({ iss: 'someone-else', exp: inFiveMinutes() }))
  t.equal(wrongIss.statusCode, 401, 'another issuer')
  t.match(wrongIss.json(), { code: 'unauthorized' })

  // fast-jwt will not sign a string exp, so this one is put together by hand.
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ ...claims, iss: 'delivertrack', exp: 'tomorrow' })}`
  const badExp = await me(`${input}.${createHmac('sha256', gw.config.JWT_SECRET!).update(input).digest('base64url')}`)
  t.equal(badExp.statusCode, 401, 'an exp that is not a number')

  const issued = await gw.auth.login({ email: customer.email, password: customer.password })
  const payload = JSON.parse(Buffer.from(issued.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
  t.match(payload, { iss: 'delivertrack', exp: Number }, 'the tokens we issue carry both')
})

t.test('external tokens without exp are refused; configured iss and aud are required', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const sign = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'RS256' })
  const sub = `idp|${randomBytes(6).toString('hex')}`
  const external = await testGateway(t, { JWT_PUBLIC_KEY: publicPem })
  const ask = (token: string) => external.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) })

  t.equal((await ask(sign({ sub, exp: inFiveMinutes() }))).statusCode, 200, 'with exp (control)')
  const noExp = await ask(sign({ sub }))
  t.equal(noExp.statusCode, 401, 'without exp')
  t.match(noExp.json(), { code: 'unauthorized', message: /expiry \(exp\)/ })

  const strict = new ExternalTokenVerifier({ publicKey: publicPem, roleClaim: 'role', issuer: 'https://idp.example.com/', audience: 'delivertrack' })
  const full = { sub, iss: 'https://idp.example.com/', aud: 'delivertrack', exp: inFiveMinutes() }
  t.match(await strict.identify(sign(full)), { sub }, 'iss, aud and exp (control)')
  const { iss: _iss, ...withoutIss } = full
  await t.rejects(strict.identify(sign(withoutIss)), { code: 'FAST_JWT_MISSING_REQUIRED_CLAIM' }, 'JWT_ISSUER set: a token without iss')
  const { aud: _aud, ...withoutAud } = full
  await t.rejects(strict.identify(sign(withoutAud)), { code: 'FAST_JWT_MISSING_REQUIRED_CLAIM' }, 'JWT_AUDIENCE set: a token without aud')
})
