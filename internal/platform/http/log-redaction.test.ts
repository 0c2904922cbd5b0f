import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import t from 'tap'
import WebSocket from 'ws'
import { testGateway } from '../../app/testing/gateway.js'
import { REDACTED, redactUrl } from './log-redaction.js'

// F13: credentials never reach the log, the WebSocket's ?token= above all. The
// gateway's own log stream is read back.

/** A log destination that keeps every line and tells waiters when a matching one arrives. */
function logSink() {
  const lines: string[] = []
  const waiters: Array<{ pred: (line: string) => boolean; resolve: () => void }> = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(line)
        for (const w of waiters.filter((w) => w.pred(line))) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve()
        }
      }
      done()
    },
  })
  const logged = (pred: (line: string) => boolean) =>
    lines.some(pred) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pred, resolve }))
  return { stream, lines, logged }
}

t.test('redactUrl', async (t) => {
  t.equal(redactUrl('/api/v1/ws?token=abc.def.ghi'), `/api/v1/ws?token=${REDACTED}`)
  t.equal(redactUrl('/x?limit=5&token=abc&cursor=c1'), `/x?limit=5&token=${REDACTED}&cursor=c1`, 'other parameters stay')
  t.equal(redactUrl('/x?%74oken=abc'), `/x?%74oken=${REDACTED}`, 'an encoded name is recognised')
  t.equal(redactUrl('/x?token=%E0%A4%A'), `/x?token=${REDACTED}`, 'a malformed value is redacted too')
  t.equal(redactUrl('/x?access_token=a&client_secret=b&api_key=c&password=d'), `/x?access_token=${REDACTED}&client_secret=${REDACTED}&api_key=${REDACTED}&password=${REDACTED}`)
  t.equal(redactUrl('/api/v1/track/DT123?x=1'), '/api/v1/track/DT123?x=1')
})

t.test('the gateway never logs a token, password or key', async (t) => {
  const sink = logSink()
  const gw = await testGateway(t, {}, { logger: { level: 'info', stream: sink.stream } })
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = gw.app.server.address() as AddressInfo
  const admin = await gw.user('admin')
  const secrets = [admin.token]

  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws?token=${admin.token}`)
  await once(ws, 'open')
  ws.close()
  await once(ws, 'close')
  const bad = 'not-a-jwt-but-still-a-secret'
  secrets.push(bad)
  const refused = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws?token=${bad}`)
  const [code] = (await once(refused, 'close')) as [number]
  t.equal(code, 1008, 'the bad token was refused')

  const password = 'Another correct horse 42'
  secrets.push(password)
  const register = await gw.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'logged@example.com', password, name: 'Log Reader' } })
  t.equal(register.statusCode, 201)
  const { accessToken, refreshToken } = register.json() as { accessToken: string; refreshToken: string }
  secrets.push(accessToken, refreshToken)
  await gw.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'logged@example.com', password: `${password}-wrong` } })
  secrets.push(`${password}-wrong`)
  const { apiKey } = await gw.devices.create({ name: 'logged device' })
  secrets.push(apiKey)
  await gw.app.inject({ method: 'POST', url: '/api/v1/locations', headers: { 'x-api-key': apiKey }, payload: { points: [] } })
  await gw.app.inject({ method: 'GET', url: `/api/v1/auth/me?access_token=${accessToken}`, headers: { authorization: `Bearer ${accessToken}` } })

  // A secret handed to a log call by mistake is censored by its name.
  gw.app.log.info({ body: { password: 'mistake-password-1' }, clientSecret: 'mistake-secret-2' }, 'careless line')
  secrets.push('mistake-password-1', 'mistake-secret-2')

  await sink.logged((line) => line.includes('/api/v1/auth/me?access_token='))
  t.ok(sink.lines.some((line) => line.includes(`/api/v1/ws?token=${REDACTED}`)), 'the socket request is logged, its token redacted')
  for (const secret of secrets) {
    const leaks = sink.lines.filter((line) => line.includes(secret))
    t.same(leaks, [], `the log does not hold ${secret.slice(0, 12)}...`)
  }
})
