import { randomBytes } from 'node:crypto'
import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { createRedis } from '../platform/cache/redis.js'
import { createServer } from '../platform/http/server.js'
import { authRoutes } from './http.js'
import { HmacAccessTokenSigner } from './jwt.js'
import { RedisLoginAttemptStore } from './login-attempts-redis.js'
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from './login-throttle.js'
import { ScryptHasher } from './password.js'
import { PostgresRefreshTokenRepository, PostgresServiceClientRepository, PostgresUserRepository } from './postgres.js'
import { AuthService } from './service.js'

// The gateway's clock cannot be moved, so each "gateway" here is the auth routes over
// the same tables and the same Redis, with a clock the test moves.
const gw = await testGateway(t)
let now = Date.now()

async function gateway(store = new RedisLoginAttemptStore(gw.redis)) {
  const auth = new AuthService({
    users: new PostgresUserRepository(gw.pool),
    refreshTokens: new PostgresRefreshTokenRepository(gw.pool),
    serviceClients: new PostgresServiceClientRepository(gw.pool),
    hasher: new ScryptHasher(1024),
    signer: new HmacAccessTokenSigner(gw.config.JWT_SECRET!, 60),
    refreshTtlSeconds: 3600,
    throttle: new LoginThrottle(store),
    clock: () => new Date(now),
  })
  const app = await createServer({ logLevel: 'silent', bodyLimit: 65_536, version: 'test' })
  await app.register(authRoutes, { auth, prefix: '/api/v1' })
  t.teardown(() => app.close())
  return (email: string, password: string, from = '198.51.100.7') =>
    app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: from, payload: { email, password } })
}
const login = await gateway()

async function account() {
  const email = `throttle-${randomBytes(4).toString('hex')}@example.com`
  const password = 'correct horse battery'
  await gw.auth.createUser({ email, password, name: 'Tess', role: 'customer' })
  return { email, password }
}

t.test('after 5 failures an address waits, 1 s doubling per further attempt, never more than 5 min', async (t) => {
  const { email, password } = await account()
  for (let i = 1; i <= 5; i++) t.equal((await login(email, 'wrong password!')).statusCode, 401, `failure ${i}`)
  const held = await login(email, password)
  t.equal(held.statusCode, 429, 'even the right password waits')
  t.match(held.json(), { statusCode: 429, error: 'Too Many Requests', code: 'rate_limited', message: /try again in 1 s/ })
  t.equal(held.headers['retry-after'], '1')

  const waits: number[] = []
  for (let i = 0; i < 12; i++) {
    const retryAfter = Number((await login(email, 'wrong password!')).headers['retry-after'])
    waits.push(retryAfter)
    now += retryAfter * 1000
    t.equal((await login(email, 'wrong password!')).statusCode, 401, 'tried again once the wait is over')
  }
  t.same(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300], 'the waits double up to the 5-minute cap')

  now += 300_000
  t.equal((await login(email, password)).statusCode, 200, 'the right password after the wait')
  for (let i = 1; i <= 4; i++) t.equal((await login(email, 'wrong password!')).statusCode, 401, 'a sign-in started the address afresh')
})

t.test('the real user elsewhere is not locked out by an attacker, however many addresses the attacker has', async (t) => {
  const { email, password } = await account()
  // 12 addresses, 5 guesses each: every address fails 3 times on its own, then the account-wide bound holds them back.
  let refused = 0
  for (let a = 1; a <= 12; a++) {
    for (let i = 0; i < 5; i++) if ((await login(email, `guess ${a}-${i} password`, `203.0.113.${a}`)).statusCode === 429) refused++
  }
  t.ok(refused > 0, `the account-wide bound held spread guesses back (${refused} refused)`)
  const guesser = await login(email, 'yet another guess!', '203.0.113.13')
  t.equal(guesser.statusCode, 401, 'an address\'s first attempts are never held back by others')
  t.equal((await login(email, password, '192.0.2.50')).statusCode, 200, 'the real user signs in from home')
  t.equal((await login(email, 'typo in password', '192.0.2.51')).statusCode, 401, 'and may mistype from elsewhere')
})

t.test('unknown emails are throttled the same way (no hint whether the account exists)', async (t) => {
  const email = `nobody-${randomBytes(4).toString('hex')}@example.com`
  for (let i = 1; i <= 5; i++) t.equal((await login(email, 'any password at all')).statusCode, 401)
  t.equal((await login(email, 'any password at all')).statusCode, 429)
})

t.test('gateways share the count: failures on one hold the address back on another', async (t) => {
  const { email, password } = await account()
  const other = await gateway()
  for (let i = 0; i < 3; i++) await login(email, 'wrong password!')
  for (let i = 0; i < 2; i++) await other(email, 'wrong password!')
  t.equal((await login(email, password)).statusCode, 429)
  t.equal((await other(email.toUpperCase(), password)).statusCode, 429, 'whatever the case of the email')
})

t.test('while Redis is unreachable the throttle steps aside: sign-ins still work', async (t) => {
  const { email, password } = await account()
  const down = createRedis({ url: 'redis://127.0.0.1:1' })
  down.on('error', () => undefined)
  t.teardown(() => down.disconnect())
  const loginWithoutRedis = await gateway(new RedisLoginAttemptStore(down))
  for (let i = 0; i < 6; i++) t.equal((await loginWithoutRedis(email, 'wrong password!')).statusCode, 401)
  t.equal((await loginWithoutRedis(email, password)).statusCode, 200)
})

t.test('the policy in numbers (docs/security.md states them)', async (t) => {
  t.match(DEFAULT_LOGIN_THROTTLE, {
    perAddress: { freeAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 300_000 },
    perAccount: { freeAttempts: 20, baseDelayMs: 1_000, maxDelayMs: 60_000 },
    addressGrace: 3,
  })
})
