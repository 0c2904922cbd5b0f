import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

/** The sandbox provider's environment (`npm run carrier-sandbox`). */
export const SandboxConfigSchema = Type.Object({
  NODE_ENV: Type.String({ default: 'development' }),
  CARRIER_SANDBOX_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 4010 }),
  CARRIER_SANDBOX_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  /** Journey minutes per real minute (60: a two-day journey plays in 48 minutes). */
  CARRIER_SANDBOX_SPEED: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, default: 1 }),
  /** Where to push signed webhooks when a journey advances (e.g. http://127.0.0.1:3000/api/v1/carrier-webhooks/sandbox). */
  CARRIER_SANDBOX_WEBHOOK_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** The push signing secret; the gateway verifies with the same CARRIER_WEBHOOK_SECRET. */
  CARRIER_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  /** When set, requests must carry it in `as-api-key`. */
  CARRIER_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
})
export type SandboxConfig = Static<typeof SandboxConfigSchema>

export function loadSandboxConfig(env: Record<string, string | undefined> = process.env): SandboxConfig {
  const raw: Record<string, string> = {}
  for (const key of Object.keys(SandboxConfigSchema.properties)) {
    const v = env[key]?.trim()
    if (v) raw[key] = v
  }
  const value = Value.Default(SandboxConfigSchema, Value.Convert(SandboxConfigSchema, raw))
  const first = [...Value.Errors(SandboxConfigSchema, value)][0]
  if (first) throw new Error(`invalid environment variable ${first.instancePath.slice(1)}: ${first.message}`)
  const config = value as SandboxConfig
  if (config.NODE_ENV === 'production') throw new Error('the carrier sandbox is a development tool and refuses to run with NODE_ENV=production')
  if (config.CARRIER_SANDBOX_WEBHOOK_URL && !config.CARRIER_WEBHOOK_SECRET) throw new Error('CARRIER_SANDBOX_WEBHOOK_URL needs CARRIER_WEBHOOK_SECRET to sign the pushes')
  return config
}
