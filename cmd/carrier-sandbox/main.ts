/**
 * `npm run carrier-sandbox`: the sandbox carrier tracking provider, an HTTP server
 * in AfterShip's shape with scripted journeys and fault injection
 * (internal/carrier/README.md). Point the gateway at it with
 * CARRIER_PROVIDER=sandbox CARRIER_API_URL=http://127.0.0.1:4010.
 */
import { startSandbox } from '../../internal/carrier/sandbox/server.js'
import { loadSandboxConfig } from './config.js'

async function main(): Promise<void> {
  const config = loadSandboxConfig()
  const sandbox = await startSandbox({
    port: config.CARRIER_SANDBOX_PORT,
    host: config.CARRIER_SANDBOX_HOST,
    speed: config.CARRIER_SANDBOX_SPEED,
    apiKey: config.CARRIER_API_KEY,
    webhook: config.CARRIER_SANDBOX_WEBHOOK_URL ? { url: config.CARRIER_SANDBOX_WEBHOOK_URL, secret: config.CARRIER_WEBHOOK_SECRET! } : undefined,
  })
  console.log(`carrier sandbox on ${sandbox.url} (x${config.CARRIER_SANDBOX_SPEED} time${config.CARRIER_SANDBOX_WEBHOOK_URL ? `, pushing to ${config.CARRIER_SANDBOX_WEBHOOK_URL}` : ''})`)
  const stop = () => void sandbox.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err: unknown) => {
  console.error(`carrier-sandbox: ${(err as Error).message}`)
  process.exit(1)
})
