import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createSigner } from 'fast-jwt'
import { DEV_JWT_SECRET, loadConfig } from '../config/config.js'
import { bearer, testGateway, type TestGateway } from '../app/testing/gateway.js'
import { ExternalTokenVerifier } from './external.js'

/** An identity provider of the test's own: an RSA key pair and a way to mint its tokens. */
function identityProvider(kid?: string) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const signer = createSigner({ key: privatePem, algorithm: 'RS256', expiresIn: 300_000, ...(kid ? { kid } : {}) })
  return { publicKey, publicPem, privatePem, sign: (claims: Record<string, unknown>) => signer(claims) }
}

const subject = () => `idp|${randomBytes(6).toString('hex')}`
const me = (gw: TestGateway, token: string) => gw.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) })

/** An HS256 JWT signed by hand (fast-jwt rightly refuses to use a PEM as an HMAC key). */
function hs256(secret: string, claims: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

t.test('JWT_PUBLIC_KEY: tokens of the identity provider authenticate', async (t) => {
  const idp = identityProvider()
  const gw = await testGateway(t, { JWT_PUBLIC_KEY: idp.publicPem })
  const sub = subject()
  const token = idp.sign({ sub, email: 'Olga.Operator@Example.com', name: 'Olga', role: 'operator' })

  const first = await me(gw, token)
  t.equal(first.statusCode, 200, first.body)
  t.match(first.json(), { id: String, email: 'olga.operator@example.com', name: 'Olga', role: 'operator' })
  t.not(first.json().id, sub, 'a local user id, not the provider subject')

  const again = await me(gw, idp.sign({ sub, email: 'olga.operator@example.com', role: 'operator' }))
  t.equal(again.json().id, first.json().id, 'the same subject is the same local user')

  const list = await gw.app.inject({ method: 'GET', url: '/api/v1/packages', headers: bearer(token) })
  t.equal(list.statusCode, 200, 'an operator may list packages')
  t.match(list.json(), { items: Array })
  const create = await gw.app.inject({
    method: 'POST',
    url: '/api/v1/packages',
    headers: bearer(token),
    payload: { sender: { name: 'Shop' }, recipient: { name: 'Ann' } },
  })
  t.equal(create.statusCode, 403, 'but, as an operator, not create them')

  const local = await gw.user('customer')
  t.equal((await me(gw, local.token)).statusCode, 200, 'our own tokens still work beside the provider\'s')
})

t.test('JWT_PUBLIC_KEY: roles, first sight under concurrency, and tokens that must be refused', async (t) => {
  const idp = identityProvider()
  const gw = await testGateway(t, { JWT_PUBLIC_KEY: idp.publicPem })

  const plain = await me(gw, idp.sign({ sub: subject(), email: 'carla@example.com' }))
  t.equal(plain.statusCode, 200, plain.body)
  t.equal(plain.json().role, 'customer', 'no role claim: a customer')
  const bogus = await me(gw, idp.sign({ sub: subject(), role: 'superuser' }))
  t.equal(bogus.json().role, 'customer', 'an unknown role: a customer')
  const serviceClaim = await me(gw, idp.sign({ sub: subject(), role: 'service' }))
  t.equal(serviceClaim.json().role, 'customer', 'service is not a role a provider can hand out')
  const noEmail = await me(gw, idp.sign({ sub: subject() }))
  t.equal(noEmail.statusCode, 200, 'a token without an email still authenticates')

  const sub = subject()
  const concurrent = await Promise.all([1, 2, 3, 4].map((i) => me(gw, idp.sign({ sub, email: 'racer@example.com', n: i }))))
  t.same(concurrent.map((r) => r.statusCode), [200, 200, 200, 200], 'first sight from parallel requests')
  t.equal(new Set(concurrent.map((r) => r.json().id)).size, 1, 'one local user')

  const confused = hs256(idp.publicPem, { sub: subject(), role: 'admin', iss: 'delivertrack', exp: Math.floor(Date.now() / 1000) + 300 })
  const confusion = await me(gw, confused)
  t.equal(confusion.statusCode, 401, 'the public key is no HMAC secret (algorithm confusion)')
  t.match(confusion.json(), { code: 'unauthorized' })

  const stranger = identityProvider()
  t.equal((await me(gw, stranger.sign({ sub: subject(), role: 'admin' }))).statusCode, 401, 'another key pair')
  const expired = createSigner({ key: idp.privatePem, algorithm: 'RS256' })
  t.equal((await me(gw, expired({ sub: subject(), exp: Math.floor(Date.now() / 1000) - 60 }))).statusCode, 401, 'expired')
  const noSub = await me(gw, idp.sign({ email: 'nobody@example.com', role: 'admin' }))
  t.equal(noSub.statusCode, 401, 'no subject, no user')
})

t.test('an identity whose email belongs to a local account is refused, not a 500 and not a takeover', async (t) => {
  const idp = identityProvider()
  const gw = await testGateway(t, { JWT_PUBLIC_KEY: idp.publicPem })
  const local = await gw.user('customer')
  const res = await me(gw, idp.sign({ sub: subject(), email: local.email, role: 'admin' }))
  t.equal(res.statusCode, 409, res.body)
  t.match(res.json(), { code: 'conflict' })
  const still = await me(gw, local.token)
  t.match(still.json(), { id: local.id, role: 'customer' }, 'the local account is untouched')
})

t.test('JWT_JWKS_URL: keys come from the provider\'s JWKS by kid', async (t) => {
  const idp = identityProvider('key-2024')
  const jwk = idp.publicKey.export({ format: 'jwk' })
  let fetches = 0
  const server = createServer((req, res) => {
    if (req.url !== '/tenant/.well-known/jwks.json') {
      res.writeHead(404).end()
      return
    }
    fetches++
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...jwk, kid: 'key-2024', alg: 'RS256', use: 'sig' }] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as AddressInfo
  const gw = await testGateway(t, { JWT_JWKS_URL: `http://127.0.0.1:${port}/tenant/.well-known/jwks.json` })

  const sub = subject()
  const res = await me(gw, idp.sign({ sub, email: 'jwks@example.com', role: 'driver' }))
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { email: 'jwks@example.com', role: 'driver' })
  const second = await me(gw, idp.sign({ sub, email: 'jwks@example.com', role: 'driver', n: 2 }))
  t.equal(second.json().id, res.json().id)
  t.equal(fetches, 1, 'the JWKS is fetched once and cached, not on every request')

  const otherKid = identityProvider('key-unknown')
  t.equal((await me(gw, otherKid.sign({ sub: subject() }))).statusCode, 401, 'a kid the JWKS does not have')
  const rogue = identityProvider('key-2024')
  t.equal((await me(gw, rogue.sign({ sub: subject(), role: 'admin' }))).statusCode, 401, 'the right kid, the wrong key')
})

t.test('ExternalTokenVerifier accepts a PEM with escaped newlines (as .env files hold it) and nested role claims', async (t) => {
  const idp = identityProvider()
  const verifier = new ExternalTokenVerifier({ publicKey: idp.publicPem.replace(/\n/g, '\\n'), roleClaim: 'metadata.role', issuer: 'https://idp.example.com/' })
  const sub = subject()
  t.match(await verifier.identify(idp.sign({ sub, iss: 'https://idp.example.com/', metadata: { role: 'driver' } })), { sub, role: 'driver' })
  t.match(await verifier.identify(idp.sign({ sub, iss: 'https://idp.example.com/', role: 'admin' })), { role: 'customer' }, 'only the configured claim counts')
  await t.rejects(verifier.identify(idp.sign({ sub, iss: 'https://evil.example.com/' })), 'another issuer is refused when JWT_ISSUER is set')
  t.throws(() => new ExternalTokenVerifier({ roleClaim: 'role' }), 'needs a key or a JWKS URL')
})

t.test('production with only an external key refuses to start instead of using the published development secret', async (t) => {
  const idp = identityProvider()
  t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_PUBLIC_KEY: idp.publicPem }), /JWT_SECRET/)
  // And a gateway that does have its own secret refuses tokens minted with the development one.
  const gw = await testGateway(t, { JWT_PUBLIC_KEY: idp.publicPem })
  const forged = createSigner({ key: DEV_JWT_SECRET, algorithm: 'HS256', iss: 'delivertrack' })({ sub: randomUUID(), role: 'admin', kind: 'user' })
  const res = await gw.app.inject({ method: 'GET', url: '/api/v1/packages', headers: bearer(forged) })
  t.equal(res.statusCode, 401, 'a token anyone can mint from the source code is refused')
})
