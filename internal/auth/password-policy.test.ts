import { randomBytes } from 'node:crypto'
import t from 'tap'
import { checkGatewayConfig } from '../app/gateway.js'
import { bearer, testGateway } from '../app/testing/gateway.js'
import { loadConfig } from '../config/config.js'
import { passwordProblem } from './password-policy.js'

const REFUSED: Array<[password: string, why: RegExp]> = [
  ['short pw', /10 characters/],
  ['123456789', /10 characters/],
  ['aaaaaaaaaaaa', /one character repeated/],
  ['€€€€€€€€€€', /one character repeated/],
  ['1234567890', /most common/],
  ['qwertyuiop', /most common/],
  ['Password123', /most common/],
  ['PASSWORD1234', /most common/],
  ['ILoveYou123', /most common/],
  ['x'.repeat(201), /200 characters/],
]
const ACCEPTED = ['correct horse battery', 'admin-password', 'long enough password', 'zürich-tram-7', '🚚📦🚚📦🚚📦🚚📦🚚📦']

t.test('the policy: length, one repeated character, the list of common passwords (any case)', async (t) => {
  for (const [password, why] of REFUSED) t.match(passwordProblem(password), why, password)
  for (const password of ACCEPTED) t.equal(passwordProblem(password), undefined, password)
})

t.test('register, admin-created users and the first admin all apply it', async (t) => {
  const gw = await testGateway(t)
  const admin = await gw.user('admin')
  const email = () => `policy-${randomBytes(4).toString('hex')}@example.com`
  for (const [password, why] of REFUSED) {
    const register = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: email(), password, name: 'Pat' } })
    t.equal(register.statusCode, 400, `register with ${password}`)
    t.match(register.json(), { statusCode: 400, code: 'validation_failed', details: [{ path: '/password', message: why }] })
    const created = await gw.app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer(admin.token), payload: { email: email(), password, name: 'Pat', role: 'driver' } })
    t.equal(created.statusCode, 400, `POST /users with ${password}`)
    t.match(created.json(), { code: 'validation_failed', details: [{ path: '/password', message: why }] })
  }
  const ok = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: email(), password: 'correct horse battery', name: 'Pat' } })
  t.equal(ok.statusCode, 201, 'a good password is taken')
  await t.rejects(gw.auth.ensureAdmin(email(), 'password123'), { code: 'validation_failed' }, 'ensureAdmin too')
})

t.test('a weak ADMIN_PASSWORD stops the gateway before it starts; the Makefile default passes', async (t) => {
  const config = (password: string) => loadConfig({ ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: password })
  t.throws(() => checkGatewayConfig(config('password1234')), { name: 'ConfigError', message: /ADMIN_PASSWORD: is one of the most common passwords/ })
  t.throws(() => checkGatewayConfig(config('zzzzzzzzzzzz')), { name: 'ConfigError', message: /ADMIN_PASSWORD: must not be one character repeated/ })
  t.throws(() => loadConfig({ ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'admin-pw' }), /ADMIN_PASSWORD/, 'too short for the schema already')
  t.doesNotThrow(() => checkGatewayConfig(config('admin-password')), 'make run / docker-compose default')
  t.doesNotThrow(() => checkGatewayConfig(loadConfig({})), 'no first admin configured')
})
