import t from 'tap'
import { loadSandboxConfig } from './config.js'

t.test('defaults suit development: port 4010, real time, no pushes', async (t) => {
  t.match(loadSandboxConfig({}), { CARRIER_SANDBOX_PORT: 4010, CARRIER_SANDBOX_HOST: '127.0.0.1', CARRIER_SANDBOX_SPEED: 1, CARRIER_SANDBOX_WEBHOOK_URL: undefined })
  t.match(loadSandboxConfig({ CARRIER_SANDBOX_PORT: '4999', CARRIER_SANDBOX_SPEED: '60' }), { CARRIER_SANDBOX_PORT: 4999, CARRIER_SANDBOX_SPEED: 60 })
})

t.test('bad settings stop it with the variable named', async (t) => {
  t.throws(() => loadSandboxConfig({ CARRIER_SANDBOX_PORT: 'lots' }), /CARRIER_SANDBOX_PORT/)
  t.throws(() => loadSandboxConfig({ CARRIER_SANDBOX_SPEED: '0' }), /CARRIER_SANDBOX_SPEED/)
  t.throws(() => loadSandboxConfig({ CARRIER_SANDBOX_WEBHOOK_URL: 'http://127.0.0.1:3000/hook' }), /CARRIER_WEBHOOK_SECRET/, 'pushes must be signed')
})

t.test('it refuses to run in production', async (t) => {
  t.throws(() => loadSandboxConfig({ NODE_ENV: 'production' }), /development tool/)
})
