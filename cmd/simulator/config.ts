import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

/** The simulator's environment (defaults match `make run`'s gateway and admin). */
export const SimulatorConfigSchema = Type.Object({
  SIM_API_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:3000/api/v1' }),
  ADMIN_EMAIL: Type.String({ minLength: 3, default: 'admin@example.com' }),
  ADMIN_PASSWORD: Type.String({ minLength: 8, default: 'admin-password' }),
  SIM_PACKAGES: Type.Integer({ minimum: 1, maximum: 500, default: 5 }),
  /** Simulated seconds per real second (1 = real time). */
  SIM_SPEEDUP: Type.Number({ minimum: 1, maximum: 3600, default: 60 }),
  /** Real milliseconds between two position fixes of a device. */
  SIM_TICK_MS: Type.Integer({ minimum: 200, maximum: 60_000, default: 1_000 }),
  /** Real milliseconds between two batches a device posts. */
  SIM_BATCH_MS: Type.Integer({ minimum: 200, maximum: 300_000, default: 5_000 }),
})
export type SimulatorConfig = Static<typeof SimulatorConfigSchema>

export function loadSimulatorConfig(env: Record<string, string | undefined> = process.env): SimulatorConfig {
  const raw: Record<string, string> = {}
  // Follows the gateway's PORT when no URL is given (`PORT=3001 make demo`).
  if (env.PORT?.trim() && !env.SIM_API_URL?.trim()) raw.SIM_API_URL = `http://127.0.0.1:${env.PORT.trim()}/api/v1`
  for (const key of Object.keys(SimulatorConfigSchema.properties)) {
    const v = env[key]?.trim()
    if (v) raw[key] = v
  }
  const value = Value.Default(SimulatorConfigSchema, Value.Convert(SimulatorConfigSchema, raw))
  const first = [...Value.Errors(SimulatorConfigSchema, value)][0]
  if (first) throw new Error(`invalid environment variable ${first.instancePath.slice(1)}: ${first.message}`)
  return value as SimulatorConfig
}
