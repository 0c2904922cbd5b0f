import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { responses } from '../http/schemas.js'

export interface DependencyCheck {
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  check: () => Promise<unknown>
  /** Without a critical dependency the service is `down` (503); without another it is `degraded` (200). */
  critical: boolean
  /** What stands in for the dependency when it is not the usual server (embedded mode: "PGlite in process"). */
  implementation?: string
  /** A state reported beside `ok`, read after the check (a provider's circuit breaker: closed, half-open, open). */
  state?: () => string
}

const Check = Type.Object({ ok: Type.Boolean(), latencyMs: Type.Number(), error: Type.Optional(Type.String()), implementation: Type.Optional(Type.String()), state: Type.Optional(Type.String()) })
const Ready = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
  mode: Type.Optional(Type.Union([Type.Literal('services'), Type.Literal('embedded')], { description: 'embedded: everything in this one process, nothing installed' })),
  checks: Type.Record(Type.String(), Check),
})

const TIMEOUT_MS = 2_000

async function timed(check: () => Promise<unknown>) {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)
      }),
    ])
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 }
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (err as Error).message || 'failed' }
  } finally {
    clearTimeout(timer)
  }
}

/** /health (liveness, touches nothing) and /health/ready (every dependency, with latency). */
export const healthRoutes: FastifyPluginAsync<{ checks: Record<string, DependencyCheck>; mode?: 'services' | 'embedded' }> = async (app, { checks, mode }) => {
  const config = { auth: 'none' as const, rateLimit: false as const }
  app.get('/health', { config, schema: { tags: ['operations'], summary: 'Liveness', response: responses({ 200: Type.Object({ status: Type.Literal('ok') }) }) } }, async () => ({ status: 'ok' as const }))

  app.get('/health/ready', {
    config,
    schema: { tags: ['operations'], summary: 'Readiness with a check per dependency', response: { 200: Ready, 503: Ready } },
  }, async (_request, reply) => {
    const names = Object.keys(checks)
    const results = await Promise.all(names.map((n) => timed(checks[n]!.check)))
    const out = Object.fromEntries(names.map((n, i) => {
      const { implementation, state } = checks[n]!
      return [n, { ...results[i]!, ...(implementation ? { implementation } : {}), ...(state ? { state: state() } : {}) }]
    }))
    const down = names.some((n, i) => checks[n]!.critical && !results[i]!.ok)
    const degraded = results.some((r) => !r.ok)
    const status = down ? 'down' : degraded ? 'degraded' : 'ok'
    return reply.code(down ? 503 : 200).send({ status, ...(mode ? { mode } : {}), checks: out })
  })
}
