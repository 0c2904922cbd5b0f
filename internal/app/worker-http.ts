import Fastify, { type FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { processRegistry, prometheusRoute } from '../ops/http.js'
import { healthRoutes, type DependencyCheck } from '../platform/health/http.js'
import { ErrorBody, installErrorHandling } from '../platform/http/errors.js'

export interface WorkerHealthOptions {
  checks: Record<string, DependencyCheck>
  /** The worker's own figures (the carriers role's); the process's CPU and memory are added. */
  registries: Registry[]
}

/**
 * The worker's HTTP side, on HEALTH_PORT: /health, /health/ready and /metrics for
 * probes and Prometheus, nothing else (no API, no auth). The caller listens and closes.
 */
export async function buildWorkerHealth(opts: WorkerHealthOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, return503OnClosing: true, forceCloseConnections: 'idle' })
  installErrorHandling(app)
  app.addSchema(ErrorBody)
  await app.register(healthRoutes, { checks: opts.checks })
  await app.register(prometheusRoute, { registry: Registry.merge([processRegistry(), ...opts.registries]) })
  return app
}
