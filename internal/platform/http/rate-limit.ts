import type { FastifyInstance, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { RateLimitStoreFactory } from './rate-limit-store.js'

export interface RateLimitOptions {
  /** The counter: leasedRedisStore (shared by every gateway) or memoryRateLimitStore (one gateway alone). */
  store: RateLimitStoreFactory
  /** Requests per minute per user, API key or guest IP. */
  max: number
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The lookup prefix of the API key that authenticated the request (devices). */
    apiKeyPrefix?: string
  }
}

/** Who a request counts against: the device's API key, the authenticated principal, else the client IP. */
export function rateLimitKey(request: FastifyRequest): string {
  if (request.apiKeyPrefix) return `key:${request.apiKeyPrefix}`
  return request.principal ? `${request.principal.kind}:${request.principal.id}` : `ip:${request.ip}`
}

/**
 * Per-caller limits in fixed one-minute windows, counted by the store given
 * (rate-limit-store.ts). While the store fails, e.g. Redis is down, the limiter
 * steps aside (skipOnError) rather than refusing all traffic.
 * Routes tighten or lift it with `config.rateLimit`.
 */
export async function registerRateLimit(app: FastifyInstance, opts: RateLimitOptions): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: opts.max,
    timeWindow: 60_000,
    store: opts.store,
    skipOnError: true,
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'rate_limited',
      message: `rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`,
    }),
  })
}
