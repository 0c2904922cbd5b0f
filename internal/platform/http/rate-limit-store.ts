import type { FastifyRateLimitOptions, FastifyRateLimitStore } from '@fastify/rate-limit'

type Callback = Parameters<FastifyRateLimitStore['incr']>[1]
type RouteOptions = Parameters<FastifyRateLimitStore['child']>[0]

/**
 * The counter behind @fastify/rate-limit: a fixed window per key. A key's window
 * opens with its first request after the previous window closed and lasts the
 * `timeWindow` that request names. The plugin admits a request whose number is at
 * most `max` and answers 429 to the others.
 */
export interface RateLimitStore extends FastifyRateLimitStore {
  /**
   * Counts a request of `key` and calls back with its number in the window
   * (`current`: 1 for the first) and the milliseconds the window has left (`ttl`,
   * in 1..timeWindow). Numbers are never handed out twice in a window, so no more
   * than `max` requests get one up to `max`, however many arrive at once. An error
   * means no number could be given (the limiter then lets the request through).
   */
  incr(key: string, callback: Callback, timeWindow: number, max: number): void
  /** The store of a route with limits of its own: the same counter, its keys apart from every other route's. */
  child(routeOptions: RouteOptions): RateLimitStore
}

/** What registerRateLimit takes; the plugin builds the store with its options. */
export type RateLimitStoreFactory = new (options: FastifyRateLimitOptions) => RateLimitStore

/** Extending a window (continueExceeding, exponentialBackoff) is outside the contract; asking for it fails at start-up. */
export function refuseUnsupported(options: unknown): void {
  const o = (options ?? {}) as { continueExceeding?: unknown; exponentialBackoff?: unknown }
  if (o.continueExceeding || o.exponentialBackoff) throw new Error('the rate-limit stores support neither continueExceeding nor exponentialBackoff')
}

/** The key prefix of a route's child store, as @fastify/rate-limit's own Redis store forms it. */
export function childPrefix(parentPrefix: string, routeOptions: RouteOptions): string {
  const { routeInfo } = routeOptions as unknown as { routeInfo: { method?: unknown; url?: string } }
  return `${parentPrefix}${String(routeInfo.method)}${routeInfo.url}-`
}
